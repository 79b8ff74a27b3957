/**
 * A batch's events summed per rollup row in memory, so that a batch of 1000 events touches
 * each rollup row once. Rows come out sorted by key: concurrent transactions then lock rows in
 * the same order and cannot deadlock one another.
 */
import { emptyCounters } from './counters.ts';
import type { UsageEvent } from './event.ts';
import {
  countedEntries,
  countsEvent,
  type Grain,
  ROLLUPS,
  type RollupDescriptor,
  type RollupRow,
  type RollupRows,
} from './rollups.ts';

/** The increments of every rollup for `events`, in the order of `rollups`. */
export function rollupIncrements(
  events: readonly UsageEvent[],
  rollups: readonly RollupDescriptor[] = ROLLUPS,
): RollupRows {
  const sums = rollups.map(() => new Map<string, Sum>());
  const buckets = new Map<Grain, Bucket>();
  for (const rollup of rollups) buckets.set(rollup.grain, { start: 0, end: 0, key: 0 });
  for (const event of events) {
    // Each value is at most 1e15 (see MAX_UNITS and MAX_EVENT_COST_NANO), so it is exact as a double.
    const n = Number(event.neurons);
    const s = Number(event.synapses);
    const c = Number(event.costNano);
    const cached = Number(event.cachedNeurons);
    const cacheWrite = Number(event.cacheWriteNeurons);
    const reasoning = Number(event.reasoningSynapses);
    for (let r = 0; r < rollups.length; r++) {
      const rollup = rollups[r]!;
      if (!countsEvent(rollup, event)) continue;
      const time = timeKey(rollup.grain, buckets.get(rollup.grain)!, event.occurredAt);
      for (const tag of countedEntries(rollup, event)) {
        let id = `${event.organizationId}\u0000${time}`;
        for (const dimension of rollup.dimensions) id += `\u0000${dimension.of(event, tag)}`;
        const byId = sums[r]!;
        let sum = byId.get(id);
        if (!sum) {
          sum = new Sum(
            event.organizationId,
            time,
            rollup.dimensions.map((d) => d.of(event, tag)),
          );
          byId.set(id, sum);
        }
        sum.add(n, s, c, cached, cacheWrite, reasoning);
      }
    }
  }
  return rollups.map((rollup, r) => ({ rollup, rows: sorted(sums[r]!) }));
}

interface Bucket {
  start: number;
  end: number;
  key: number;
}

/**
 * The grain's key of `at`. Events mostly come in time order, so the previous event's span is
 * usually theirs too: its bounds are kept, and the calendar is asked only on a change.
 */
function timeKey(grain: Grain, bucket: Bucket, at: number): number {
  if (at < bucket.start || at >= bucket.end) {
    bucket.key = grain.keyOf(at);
    bucket.start = at - (((at % grain.steadyMs) + grain.steadyMs) % grain.steadyMs);
    bucket.end = bucket.start + grain.steadyMs;
  }
  return bucket.key;
}

/**
 * A rollup row being summed. BigInt additions cost about a microsecond each, a dozen per event,
 * so sums are kept as doubles while they are exact (below 2^53); only a sum about to leave that
 * range is carried into bigints, and each row is converted once, at the end.
 */
class Sum {
  requests = 0;
  neurons = 0;
  synapses = 0;
  costNano = 0;
  cachedNeurons = 0;
  cacheWriteNeurons = 0;
  reasoningSynapses = 0;
  private readonly row: RollupRow;

  constructor(organizationId: string, time: number, values: string[]) {
    this.row = { organizationId, time, values, ...emptyCounters() };
  }

  add(
    neurons: number,
    synapses: number,
    costNano: number,
    cachedNeurons: number,
    cacheWriteNeurons: number,
    reasoningSynapses: number,
  ): void {
    const max = Number.MAX_SAFE_INTEGER;
    // The parts are at most their totals, so they stay exact while the totals do.
    if (this.neurons > max - neurons || this.synapses > max - synapses || this.costNano > max - costNano) {
      this.carry();
    }
    this.requests += 1;
    this.neurons += neurons;
    this.synapses += synapses;
    this.costNano += costNano;
    this.cachedNeurons += cachedNeurons;
    this.cacheWriteNeurons += cacheWriteNeurons;
    this.reasoningSynapses += reasoningSynapses;
  }

  /** The row with its counters summed; called once. */
  total(): RollupRow {
    this.carry();
    return this.row;
  }

  private carry(): void {
    const row = this.row;
    row.requests += BigInt(this.requests);
    row.neurons += BigInt(this.neurons);
    row.synapses += BigInt(this.synapses);
    row.costNano += BigInt(this.costNano);
    row.cachedNeurons += BigInt(this.cachedNeurons);
    row.cacheWriteNeurons += BigInt(this.cacheWriteNeurons);
    row.reasoningSynapses += BigInt(this.reasoningSynapses);
    this.requests = 0;
    this.neurons = 0;
    this.synapses = 0;
    this.costNano = 0;
    this.cachedNeurons = 0;
    this.cacheWriteNeurons = 0;
    this.reasoningSynapses = 0;
  }
}

/** Rows in key order; the keys' default (code unit) sort needs no comparator called from JS. */
function sorted(sums: Map<string, Sum>): RollupRow[] {
  return [...sums.keys()].sort().map((id) => sums.get(id)!.total());
}
