/**
 * A batch's events summed per rollup row in memory, so that a batch of 1000 events touches
 * each rollup row once. Rows come out sorted by key: concurrent transactions then lock rows in
 * the same order and cannot deadlock one another.
 */
import { COUNTER_NAMES, emptyCounters } from './counters.ts';
import type { UsageEvent } from './event.ts';
import {
  countsEvent,
  expandsTags,
  type Grain,
  ROLLUPS,
  type RollupDescriptor,
  type RollupRow,
  type RollupRows,
  type TagEntry,
} from './rollups.ts';

/** What an event adds to a rollup that does not expand its tags: the event itself, once. */
const ONCE: readonly undefined[] = [undefined];

/** The increments of every rollup for `events`, in the order of `rollups`. */
export function rollupIncrements(
  events: readonly UsageEvent[],
  rollups: readonly RollupDescriptor[] = ROLLUPS,
): RollupRows {
  return rollupSums(events, rollups).map(({ rollup, sums }) => ({ rollup, rows: sums.map((sum) => sum.total()) }));
}

/**
 * The same increments as sums not yet made rows, for a writer that binds them: their counters
 * stay numbers while they are exact (see IncrementSum.parameters).
 */
export function rollupSums(
  events: readonly UsageEvent[],
  rollups: readonly RollupDescriptor[] = ROLLUPS,
): Array<{ rollup: RollupDescriptor; sums: IncrementSum[] }> {
  const sums = rollups.map(() => new Map<string, Sum>());
  // Per grain, its bucket's key of the event and the start of every row id at that grain.
  const grains = [...new Set(rollups.map((rollup) => rollup.grain))];
  const grainOf = rollups.map((rollup) => grains.indexOf(rollup.grain));
  const buckets: Bucket[] = grains.map(() => ({ start: 0, end: 0, key: 0 }));
  const times: number[] = grains.map(() => 0);
  const prefixes: string[] = grains.map(() => '');
  for (const event of events) {
    // Each value is at most 1e15 (see MAX_UNITS and MAX_EVENT_COST_NANO), so it is exact as a double.
    const n = Number(event.neurons);
    const s = Number(event.synapses);
    const c = Number(event.costNano);
    const cached = Number(event.cachedNeurons);
    const cacheWrite = Number(event.cacheWriteNeurons);
    const reasoning = Number(event.reasoningSynapses);
    for (let g = 0; g < grains.length; g++) {
      times[g] = timeKey(grains[g]!, buckets[g]!, event.occurredAt);
      prefixes[g] = `${event.organizationId}\u0000${times[g]}`;
    }
    const tags: ReadonlyArray<TagEntry> = Object.entries(event.tags);
    for (let r = 0; r < rollups.length; r++) {
      const rollup = rollups[r]!;
      if (!countsEvent(rollup, event)) continue;
      const g = grainOf[r]!;
      const entries = expandsTags(rollup) ? tags : ONCE;
      for (const tag of entries) {
        let id = prefixes[g]!;
        for (const dimension of rollup.dimensions) id += `\u0000${dimension.of(event, tag)}`;
        const byId = sums[r]!;
        let sum = byId.get(id);
        if (!sum) {
          sum = new Sum(
            event.organizationId,
            times[g]!,
            rollup.dimensions.map((d) => d.of(event, tag)),
          );
          byId.set(id, sum);
        }
        sum.add(n, s, c, cached, cacheWrite, reasoning);
      }
    }
  }
  return rollups.map((rollup, r) => ({ rollup, sums: sorted(sums[r]!) }));
}

/** One row's increment, summed: either `total` or `parameters` is called, once, when the batch is summed. */
export interface IncrementSum {
  /** The row with its counters summed as bigints. */
  total(): RollupRow;
  /**
   * The row's key, then its counters in the order of COUNTER_COLUMN_LIST: as numbers while every
   * sum is exact in a double (nearly always), else as bigints. SQLite stores either as the same
   * integer, and a bigint costs an allocation per counter that a number does not.
   */
  parameters(): Array<string | number | bigint>;
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
class Sum implements IncrementSum {
  requests = 0;
  neurons = 0;
  synapses = 0;
  costNano = 0;
  cachedNeurons = 0;
  cacheWriteNeurons = 0;
  reasoningSynapses = 0;
  /** The bigint part of the sums, made once a double would no longer hold them exactly. */
  private row: RollupRow | undefined;

  constructor(
    private readonly organizationId: string,
    private readonly time: number,
    private readonly values: string[],
  ) {}

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

  total(): RollupRow {
    this.carry();
    return this.row!;
  }

  parameters(): Array<string | number | bigint> {
    const key = [this.organizationId, this.time, ...this.values];
    if (this.row) {
      const row = this.total();
      // COUNTER_NAMES is in the order of COUNTER_COLUMN_LIST.
      return [...key, ...COUNTER_NAMES.map((name) => row[name])];
    }
    // In the order of COUNTER_COLUMN_LIST.
    key.push(
      this.requests,
      this.neurons,
      this.synapses,
      this.costNano,
      this.cachedNeurons,
      this.cacheWriteNeurons,
      this.reasoningSynapses,
    );
    return key;
  }

  private carry(): void {
    this.row ??= { organizationId: this.organizationId, time: this.time, values: this.values, ...emptyCounters() };
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

/** Sums in key order; the keys' default (code unit) sort needs no comparator called from JS. */
function sorted(sums: Map<string, Sum>): Sum[] {
  return [...sums.keys()].sort().map((id) => sums.get(id)!);
}
