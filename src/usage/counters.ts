/** The counters every rollup row carries, and their sums. Money is nano-CHF. */

export interface Counters {
  requests: bigint;
  neurons: bigint;
  /** The part of `neurons` read from the provider's prompt cache. */
  cachedNeurons: bigint;
  /** The part of `neurons` written to the provider's prompt cache. */
  cacheWriteNeurons: bigint;
  synapses: bigint;
  /** The part of `synapses` spent on reasoning. */
  reasoningSynapses: bigint;
  costNano: bigint;
}

/** Each counter and the column it is stored in, in the order rollup tables declare them. */
export const COUNTER_COLUMNS = {
  requests: 'requests',
  neurons: 'neurons',
  synapses: 'synapses',
  costNano: 'cost_nano',
  cachedNeurons: 'cached_neurons',
  cacheWriteNeurons: 'cache_write_neurons',
  reasoningSynapses: 'reasoning_synapses',
} as const satisfies Record<keyof Counters, string>;

export type CounterColumn = (typeof COUNTER_COLUMNS)[keyof Counters];

/** The counters' names, in the order of COUNTER_COLUMNS. */
export const COUNTER_NAMES = Object.keys(COUNTER_COLUMNS) as ReadonlyArray<keyof Counters>;

export function emptyCounters(): Counters {
  return {
    requests: 0n,
    neurons: 0n,
    cachedNeurons: 0n,
    cacheWriteNeurons: 0n,
    synapses: 0n,
    reasoningSynapses: 0n,
    costNano: 0n,
  };
}

export function addCounters(into: Counters, from: Counters): void {
  into.requests += from.requests;
  into.neurons += from.neurons;
  into.cachedNeurons += from.cachedNeurons;
  into.cacheWriteNeurons += from.cacheWriteNeurons;
  into.synapses += from.synapses;
  into.reasoningSynapses += from.reasoningSynapses;
  into.costNano += from.costNano;
}

/** The counters of all `items` added up. */
export function sumCounters(items: readonly Counters[]): Counters {
  const total = emptyCounters();
  for (const item of items) addCounters(total, item);
  return total;
}

/** Only the counters of a row that carries more. */
export function countersOf(row: Counters): Counters {
  return {
    requests: row.requests,
    neurons: row.neurons,
    cachedNeurons: row.cachedNeurons,
    cacheWriteNeurons: row.cacheWriteNeurons,
    synapses: row.synapses,
    reasoningSynapses: row.reasoningSynapses,
    costNano: row.costNano,
  };
}

export function sameCounters(a: Counters, b: Counters): boolean {
  return COUNTER_NAMES.every((name) => a[name] === b[name]);
}

export function isZero(c: Counters): boolean {
  return COUNTER_NAMES.every((name) => c[name] === 0n);
}

/** A row holding each counter in its column, as either engine returns it. */
export type CounterRow = Record<CounterColumn, unknown>;
