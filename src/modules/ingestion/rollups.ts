/**
 * In-memory aggregation of a batch into rollup increments, so that a batch of 1000 events
 * touches each rollup row once. Rows come out sorted by key: concurrent transactions then
 * lock rows in the same order and cannot deadlock one another.
 */
import { DAY_MS, dayKeyOf, monthKeyOf } from '../../time/calendar.ts';
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

export type OrgMonth = Counters & { organizationId: string; month: number };
export type OrgModelMonth = Counters & { organizationId: string; month: number; model: string };
export type KeyModelMonth = Counters & {
  organizationId: string;
  month: number;
  apiKeyId: string;
  model: string;
};
export type KeyDay = Counters & { organizationId: string; day: number; apiKeyId: string };

export interface RollupIncrements {
  orgMonth: OrgMonth[];
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

export function rollupIncrements(events: readonly UsageEvent[]): RollupIncrements {
  const orgModelMonth = new Map<string, Sum<OrgModelMonth>>();
  const keyModelMonth = new Map<string, Sum<KeyModelMonth>>();
  const keyDay = new Map<string, Sum<KeyDay>>();
  // Events mostly come in time order: the day of the previous one is usually theirs too.
  let dayStart = 0;
  let dayEnd = 0;
  let month = 0;
  let day = 0;
  for (const event of events) {
    const at = event.occurredAt;
    if (at < dayStart || at >= dayEnd) {
      month = monthKeyOf(at);
      day = dayKeyOf(at);
      dayStart = at - (at % DAY_MS);
      dayEnd = dayStart + DAY_MS;
    }
    // Each value is at most 1e15 (see MAX_UNITS and MAX_EVENT_COST_NANO), so it is exact as a double.
    const n = Number(event.neurons);
    const s = Number(event.synapses);
    const c = Number(event.costNano);
    const { organizationId, model } = event;
    const apiKeyId = event.apiKeyId ?? NO_API_KEY;

    const orgModelMonthId = `${organizationId}\u0000${month}\u0000${model}`;
    let sum = orgModelMonth.get(orgModelMonthId);
    if (!sum) {
      sum = new Sum({ organizationId, month, model, requests: 0n, neurons: 0n, synapses: 0n, costNano: 0n });
      orgModelMonth.set(orgModelMonthId, sum);
    }
    sum.add(n, s, c);

    if (event.apiKeyId !== null) {
      const keyModelMonthId = `${organizationId}\u0000${month}\u0000${apiKeyId}\u0000${model}`;
      let keySum = keyModelMonth.get(keyModelMonthId);
      if (!keySum) {
        keySum = new Sum({
          organizationId,
          month,
          apiKeyId,
          model,
          requests: 0n,
          neurons: 0n,
          synapses: 0n,
          costNano: 0n,
        });
        keyModelMonth.set(keyModelMonthId, keySum);
      }
      keySum.add(n, s, c);
    }

    const keyDayId = `${organizationId}\u0000${day}\u0000${apiKeyId}`;
    let daySum = keyDay.get(keyDayId);
    if (!daySum) {
      daySum = new Sum({ organizationId, day, apiKeyId, requests: 0n, neurons: 0n, synapses: 0n, costNano: 0n });
      keyDay.set(keyDayId, daySum);
    }
    daySum.add(n, s, c);
  }
  const orgModelMonthRows = sorted(orgModelMonth);
  return {
    orgMonth: organizationMonths(orgModelMonthRows),
    orgModelMonth: orgModelMonthRows,
    keyModelMonth: sorted(keyModelMonth),
    keyDay: sorted(keyDay),
  };
}

/**
 * The organization-month totals of model-month rows sorted by key (the rows of one organization
 * and month are then adjacent): one pass over the rows, not over the events.
 */
export function organizationMonths(rows: readonly OrgModelMonth[]): OrgMonth[] {
  const totals: OrgMonth[] = [];
  let last: OrgMonth | undefined;
  for (const row of rows) {
    if (last?.organizationId !== row.organizationId || last.month !== row.month) {
      last = { organizationId: row.organizationId, month: row.month, ...emptyCounters() };
      totals.push(last);
    }
    addCounters(last, row);
  }
  return totals;
}

/**
 * A rollup row being summed. BigInt additions cost about a microsecond each, a dozen per event,
 * so sums are kept as doubles while they are exact (below 2^53); only a sum about to leave that
 * range is carried into bigints, and each row is converted once, at the end.
 */
class Sum<T extends Counters> {
  requests = 0;
  neurons = 0;
  synapses = 0;
  costNano = 0;

  /** `row` holds the key and zero counters until `total()`, which also receives any carried sums. */
  constructor(private readonly row: T) {}

  add(neurons: number, synapses: number, costNano: number): void {
    const max = Number.MAX_SAFE_INTEGER;
    if (this.neurons > max - neurons || this.synapses > max - synapses || this.costNano > max - costNano) {
      this.carry();
    }
    this.requests += 1;
    this.neurons += neurons;
    this.synapses += synapses;
    this.costNano += costNano;
  }

  /** The row with its counters summed; called once. */
  total(): T {
    this.carry();
    return this.row;
  }

  private carry(): void {
    const row = this.row;
    row.requests += BigInt(this.requests);
    row.neurons += BigInt(this.neurons);
    row.synapses += BigInt(this.synapses);
    row.costNano += BigInt(this.costNano);
    this.requests = 0;
    this.neurons = 0;
    this.synapses = 0;
    this.costNano = 0;
  }
}

/** Rows in key order; the keys' default (code unit) sort needs no comparator called from JS. */
function sorted<T extends Counters>(sums: Map<string, Sum<T>>): T[] {
  return [...sums.keys()].sort().map((id) => sums.get(id)!.total());
}
