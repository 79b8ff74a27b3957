/**
 * In-memory aggregation of a batch into rollup increments, so that a batch of 1000 events
 * touches each rollup row once. Rows come out sorted by key: concurrent transactions then
 * lock rows in the same order and cannot deadlock one another.
 */
import { dayKeyOf, monthKeyOf } from '../../time/calendar.ts';
import { type CostSource, NO_API_KEY } from './usage.table.ts';

export interface UsageEvent {
  organizationId: string;
  id: string;
  apiKeyId: string | null;
  model: string;
  neurons: bigint;
  synapses: bigint;
  costNano: bigint;
  /** Absent means 'reported'. */
  costSource?: CostSource;
  /** Epoch milliseconds. */
  occurredAt: number;
}

export interface Counters {
  requests: bigint;
  neurons: bigint;
  synapses: bigint;
  costNano: bigint;
}

export type OrgModelMonth = Counters & { organizationId: string; month: number; model: string };
export type KeyModelMonth = Counters & {
  organizationId: string;
  month: number;
  apiKeyId: string;
  model: string;
};
export type KeyDay = Counters & { organizationId: string; day: number; apiKeyId: string };

export interface RollupIncrements {
  orgModelMonth: OrgModelMonth[];
  keyModelMonth: KeyModelMonth[];
  keyDay: KeyDay[];
}

export function emptyCounters(): Counters {
  return { requests: 0n, neurons: 0n, synapses: 0n, costNano: 0n };
}

export function addCounters(into: Counters, from: Counters): void {
  into.requests += from.requests;
  into.neurons += from.neurons;
  into.synapses += from.synapses;
  into.costNano += from.costNano;
}

/** The counters of all `items` added up. */
export function sumCounters(items: readonly Counters[]): Counters {
  const total = emptyCounters();
  for (const item of items) addCounters(total, item);
  return total;
}

const ZERO: Counters = Object.freeze(emptyCounters());

export function rollupIncrements(events: readonly UsageEvent[]): RollupIncrements {
  const orgModelMonth = new Map<string, Row<OrgModelMonth>>();
  const keyModelMonth = new Map<string, Row<KeyModelMonth>>();
  const keyDay = new Map<string, Row<KeyDay>>();
  for (const event of events) {
    const month = monthKeyOf(event.occurredAt);
    const day = dayKeyOf(event.occurredAt);
    // Each value is at most 1e15 (see MAX_UNITS and MAX_EVENT_COST_NANO), so it is exact as a double.
    const n = Number(event.neurons);
    const s = Number(event.synapses);
    const c = Number(event.costNano);
    const { organizationId, model } = event;
    bump(orgModelMonth, `${organizationId}\u0000${month}\u0000${model}`, n, s, c, () => ({
      organizationId,
      month,
      model,
      ...ZERO,
    }));
    const apiKeyId = event.apiKeyId ?? NO_API_KEY;
    if (event.apiKeyId !== null) {
      bump(keyModelMonth, `${organizationId}\u0000${month}\u0000${apiKeyId}\u0000${model}`, n, s, c, () => ({
        organizationId,
        month,
        apiKeyId,
        model,
        ...ZERO,
      }));
    }
    bump(keyDay, `${organizationId}\u0000${day}\u0000${apiKeyId}`, n, s, c, () => ({
      organizationId,
      day,
      apiKeyId,
      ...ZERO,
    }));
  }
  return {
    orgModelMonth: sorted(orgModelMonth),
    keyModelMonth: sorted(keyModelMonth),
    keyDay: sorted(keyDay),
  };
}

/**
 * A rollup row being summed. BigInt additions cost about a microsecond each, a dozen per event,
 * so sums are kept as doubles while they are exact (below 2^53) and moved into the bigint
 * counters only when the next addition could leave that range, and once at the end.
 */
interface Row<T extends Counters> {
  row: T;
  requests: number;
  neurons: number;
  synapses: number;
  costNano: number;
}

function bump<T extends Counters>(
  rows: Map<string, Row<T>>,
  id: string,
  neurons: number,
  synapses: number,
  costNano: number,
  make: () => T,
): void {
  let sum = rows.get(id);
  if (!sum) {
    sum = { row: make(), requests: 0, neurons: 0, synapses: 0, costNano: 0 };
    rows.set(id, sum);
  }
  const max = Number.MAX_SAFE_INTEGER;
  if (sum.neurons > max - neurons || sum.synapses > max - synapses || sum.costNano > max - costNano) spill(sum);
  sum.requests += 1;
  sum.neurons += neurons;
  sum.synapses += synapses;
  sum.costNano += costNano;
}

function spill<T extends Counters>(sum: Row<T>): T {
  sum.row.requests += BigInt(sum.requests);
  sum.row.neurons += BigInt(sum.neurons);
  sum.row.synapses += BigInt(sum.synapses);
  sum.row.costNano += BigInt(sum.costNano);
  sum.requests = 0;
  sum.neurons = 0;
  sum.synapses = 0;
  sum.costNano = 0;
  return sum.row;
}

function sorted<T extends Counters>(rows: Map<string, Row<T>>): T[] {
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, sum]) => spill(sum));
}
