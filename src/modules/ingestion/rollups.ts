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

export function rollupIncrements(events: readonly UsageEvent[]): RollupIncrements {
  const orgModelMonth = new Map<string, OrgModelMonth>();
  const keyModelMonth = new Map<string, KeyModelMonth>();
  const keyDay = new Map<string, KeyDay>();
  for (const event of events) {
    const month = monthKeyOf(event.occurredAt);
    const day = dayKeyOf(event.occurredAt);
    const counters: Counters = {
      requests: 1n,
      neurons: event.neurons,
      synapses: event.synapses,
      costNano: event.costNano,
    };
    const { organizationId, model } = event;
    bump(orgModelMonth, [organizationId, month, model], counters, () => ({ organizationId, month, model }));
    const apiKeyId = event.apiKeyId ?? NO_API_KEY;
    if (event.apiKeyId !== null) {
      bump(keyModelMonth, [organizationId, month, apiKeyId, model], counters, () => ({
        organizationId,
        month,
        apiKeyId,
        model,
      }));
    }
    bump(keyDay, [organizationId, day, apiKeyId], counters, () => ({ organizationId, day, apiKeyId }));
  }
  return {
    orgModelMonth: sorted(orgModelMonth),
    keyModelMonth: sorted(keyModelMonth),
    keyDay: sorted(keyDay),
  };
}

function bump<T extends Counters>(
  rows: Map<string, T>,
  key: Array<string | number>,
  counters: Counters,
  make: () => Omit<T, keyof Counters>,
): void {
  const id = key.join('\u0000');
  let row = rows.get(id);
  if (!row) {
    row = { ...make(), ...emptyCounters() } as T;
    rows.set(id, row);
  }
  addCounters(row, counters);
}

function sorted<T>(rows: Map<string, T>): T[] {
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}
