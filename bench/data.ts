/**
 * Deterministic, realistic usage for the benchmark: hundreds of organizations with a skewed
 * share of traffic, thousands of keys, a dozen models with a skewed mix, two years of
 * timestamps in roughly the order a gateway reports them, and 1 % retried events. Events carry
 * what modern model APIs report besides the totals: end users (50,000 in the largest
 * organization), tags with three keys (feature: 5 values, team: 20, project: 200), prompt-cache
 * parts on 30 % of events and reasoning parts on the reasoning models.
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
  cached_neurons?: number;
  cache_write_neurons?: number;
  reasoning_synapses?: number;
  end_user?: string;
  tags?: Record<string, string>;
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
/** The models whose output includes reasoning: their events report reasoning_synapses. */
const REASONING_MODELS = new Set(['o4-mini', 'gemini-2.5-pro', 'claude-opus-4']);

/** End users of the largest organization; organization i has about 1/(i+1) of them (at least 20). */
export const END_USERS_LARGEST = 50_000;
const END_USER_SHARE = 0.85;
/** Tag keys, their number of values, and the share of events that carry them. */
export const TAG_KEYS: ReadonlyArray<readonly [string, number, number]> = [
  ['feature', 5, 0.9],
  ['team', 20, 0.75],
  ['project', 200, 0.6],
];
const FEATURES = ['chat', 'search', 'summarize', 'agent', 'embed'];
const CACHED_SHARE = 0.3;
/** Of the events with cached neurons, the share that also wrote to the cache. */
const CACHE_WRITE_SHARE = 0.35;

export const endUsersOf = (orgIndex: number) => Math.max(20, Math.round(END_USERS_LARGEST / (orgIndex + 1)));

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
  /**
   * Whether events carry end users, tags, and cache and reasoning parts (default true). The
   * random draws are the same either way: without them, the stream is the same events with
   * those fields left out.
   */
  fields?: boolean;
}

/** End user, tags, cache and reasoning parts of one event, drawn whatever `fields` says. */
function drawFields(rand: () => number, org: number, model: string, neurons: number, synapses: number) {
  const parts: Pick<BenchEvent, 'cached_neurons' | 'cache_write_neurons' | 'reasoning_synapses'> = {};
  const cachedDraw = rand();
  const cachedShare = 0.2 + 0.7 * rand();
  const writeDraw = rand();
  const writeShare = 0.5 * rand();
  const reasoningShare = 0.3 + 0.5 * rand();
  if (cachedDraw < CACHED_SHARE) {
    const cached = Math.floor(neurons * cachedShare);
    parts.cached_neurons = cached;
    if (writeDraw < CACHE_WRITE_SHARE) parts.cache_write_neurons = Math.floor((neurons - cached) * writeShare);
  }
  if (REASONING_MODELS.has(model)) parts.reasoning_synapses = Math.floor(synapses * reasoningShare);
  const userDraw = rand();
  const user = skewed(rand, endUsersOf(org), 2);
  const endUser = userDraw < END_USER_SHARE ? `user-${String(user).padStart(5, '0')}` : undefined;
  const tags: Record<string, string> = {};
  for (const [key, values, share] of TAG_KEYS) {
    const carried = rand() < share;
    const value = skewed(rand, values, 2);
    if (!carried) continue;
    tags[key] =
      key === 'feature' ? FEATURES[value]! : `${key}-${String(value).padStart(String(values - 1).length, '0')}`;
  }
  return { parts, endUser, tags };
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
      const { parts, endUser, tags } = drawFields(rand, org, model, neurons, synapses);
      if (options.fields ?? true) {
        Object.assign(event, parts);
        if (endUser !== undefined) event.end_user = endUser;
        if (Object.keys(tags).length > 0) event.tags = tags;
      }
      // Cache reads cost a tenth of the neuron price and writes 1.25 times it, as providers bill
      // them; the same stated cost with the fields or without.
      const cached = parts.cached_neurons ?? 0;
      const written = parts.cache_write_neurons ?? 0;
      const neuronNanos = (neurons - cached - written) * 8 + cached * 0.8 + written * 10;
      if (options.withCost) event.cost = ((neuronNanos + synapses * synapsePrice) / 1e6).toFixed(9);
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
