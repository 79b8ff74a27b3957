/**
 * Deterministic, realistic usage for the benchmark: hundreds of organizations with a skewed
 * share of traffic, thousands of keys, a dozen models with a skewed mix, two years of
 * timestamps in roughly the order a gateway reports them, and 1 % retried events.
 */
import { seededRandom } from '../src/seeded-random.ts';
import { DAY_MS } from '../src/time/calendar.ts';

export interface BenchEvent {
  id: string;
  organization_id: string;
  api_key_id: string | null;
  model: string;
  neurons: number;
  synapses: number;
  cost?: string;
  timestamp: string;
}

export interface Tenancy {
  orgs: number;
  keysPerOrg: number;
}

/** Models priced by the default sheet, with a skewed mix (weights). */
const MODELS: Array<[string, number, number]> = [
  // model, weight, CHF per 1M synapses (neurons are 8.00 per 1M)
  ['gpt-4o-mini', 30, 4.8],
  ['gpt-4o', 18, 80],
  ['claude-sonnet-4', 12, 120],
  ['gemini-2.5-flash', 9, 20],
  ['gpt-4.1-mini', 7, 12.8],
  ['claude-3-5-haiku', 6, 32],
  ['llama-3.3-70b', 5, 5.6],
  ['mistral-small', 4, 2.4],
  ['o4-mini', 3, 35.2],
  ['gemini-2.5-pro', 3, 80],
  ['claude-opus-4', 2, 600],
  ['mistral-large', 1, 48],
];
const MODEL_WEIGHT_TOTAL = MODELS.reduce((sum, [, w]) => sum + w, 0);

export const SPAN_MS = 730 * DAY_MS;
const RETRY_SHARE = 0.01;
const WEB_SHARE = 0.1;

export const orgId = (index: number) => `org_bench${String(index).padStart(4, '0')}`;

/** An index in [0, n) where low indexes are far more likely (the biggest customers). */
function skewed(rand: () => number, n: number, power: number): number {
  return Math.min(n - 1, Math.floor(n * rand() ** power));
}

function pickModel(rand: () => number): [string, number, number] {
  let r = rand() * MODEL_WEIGHT_TOTAL;
  for (const model of MODELS) {
    r -= model[1];
    if (r < 0) return model;
  }
  return MODELS[0]!;
}

export interface EventStreamOptions {
  count: number;
  tenancy: Tenancy;
  /** API key ids by organization index, as the server named them. */
  keyIds: string[][];
  /** End of the two-year span (epoch ms). */
  end: number;
  withCost: boolean;
  /** Distinguishes the ids of separate streams into one database. */
  idPrefix: string;
  seed?: number;
}

/**
 * Yields batches of events in time order; about 1 % of them repeat an event already sent
 * (a gateway retrying after a lost acknowledgement), so `count` includes those retries.
 */
export function* eventBatches(options: EventStreamOptions, batchSize: number): Generator<BenchEvent[]> {
  const rand = seededRandom(options.seed ?? 7);
  const recent: BenchEvent[] = [];
  const start = options.end - SPAN_MS;
  let batch: BenchEvent[] = [];
  for (let i = 0; i < options.count; i++) {
    let event: BenchEvent;
    if (recent.length > 0 && rand() < RETRY_SHARE) {
      event = recent[Math.floor(rand() * recent.length)]!;
    } else {
      const org = skewed(rand, options.tenancy.orgs, 3);
      const keys = options.keyIds[org]!;
      const [model, , synapsePrice] = pickModel(rand);
      const neurons = 10 + Math.floor(4000 * rand() ** 2);
      const synapses = 5 + Math.floor(1500 * rand() ** 2);
      const jitter = (rand() - 0.5) * 3_600_000;
      const at = Math.min(options.end, Math.max(start, start + (SPAN_MS * i) / options.count + jitter));
      event = {
        id: `${options.idPrefix}-${i}`,
        organization_id: orgId(org),
        api_key_id: rand() < WEB_SHARE ? null : keys[skewed(rand, keys.length, 2)]!,
        model,
        neurons,
        synapses,
        timestamp: new Date(Math.floor(at)).toISOString(),
      };
      if (options.withCost) event.cost = ((neurons * 8 + synapses * synapsePrice) / 1e6).toFixed(9);
      if (recent.length < 4096) recent.push(event);
      else recent[i % 4096] = event;
    }
    batch.push(event);
    if (batch.length === batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
