/** The counters every rollup row carries, and their sums. Money is nano-CHF. */

export interface Counters {
  requests: bigint;
  neurons: bigint;
  synapses: bigint;
  costNano: bigint;
}

/** Each counter and the column it is stored in, in the order rollup tables declare them. */
export const COUNTER_COLUMNS = {
  requests: 'requests',
  neurons: 'neurons',
  synapses: 'synapses',
  costNano: 'cost_nano',
} as const satisfies Record<keyof Counters, string>;

export type CounterColumn = (typeof COUNTER_COLUMNS)[keyof Counters];

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

/** Only the counters of a row that carries more. */
export function countersOf(row: Counters): Counters {
  return { requests: row.requests, neurons: row.neurons, synapses: row.synapses, costNano: row.costNano };
}

export function sameCounters(a: Counters, b: Counters): boolean {
  return a.requests === b.requests && a.neurons === b.neurons && a.synapses === b.synapses && a.costNano === b.costNano;
}

export function isZero(c: Counters): boolean {
  return c.requests === 0n && c.neurons === 0n && c.synapses === 0n && c.costNano === 0n;
}
