/**
 * Compares every stored rollup row with the same row recomputed from raw events, month by
 * month. Differences mean an increment was lost or doubled; `freddy-analytics verify` and the
 * reliability tests use this.
 */
import { sql } from 'kysely';
import { toNullableNumber } from '../../storage/dialect.ts';
import type { Db } from '../../storage/schema.ts';
import { addMonths, monthKey, monthKeyOf, type YearMonth } from '../../time/calendar.ts';
import { recomputeMonth, storedMonth } from './rebuild.ts';
import type { Counters, RollupIncrements } from './rollups.ts';

export interface RollupDifference {
  table: 'rollup_org_month' | 'rollup_org_model_month' | 'rollup_key_model_month' | 'rollup_key_day';
  /** The row's key columns, e.g. `org_a/202511/gpt-4o`. */
  key: string;
  stored: Counters | null;
  expected: Counters | null;
}

export interface RollupCheck {
  monthsChecked: number;
  differences: RollupDifference[];
}

/** Checks every month that has events or rollup rows, for one organization or all. */
export async function checkRollups(db: Db, organizationId?: string): Promise<RollupCheck> {
  const range = await monthRange(db, organizationId);
  const differences: RollupDifference[] = [];
  if (!range) return { monthsChecked: 0, differences };
  const orgs = organizationId === undefined ? undefined : [organizationId];
  let monthsChecked = 0;
  for (let month = range.first; monthKey(month) <= monthKey(range.last); month = addMonths(month, 1)) {
    const [stored, expected] = await Promise.all([storedMonth(db, month, orgs), recomputeMonth(db, month, orgs)]);
    differences.push(...compare(stored, expected));
    monthsChecked++;
  }
  return { monthsChecked, differences };
}

function compare(stored: RollupIncrements, expected: RollupIncrements): RollupDifference[] {
  return [
    ...compareRows('rollup_org_month', stored.orgMonth, expected.orgMonth, (r) =>
      [r.organizationId, r.month].join('/'),
    ),
    ...compareRows('rollup_org_model_month', stored.orgModelMonth, expected.orgModelMonth, (r) =>
      [r.organizationId, r.month, r.model].join('/'),
    ),
    ...compareRows('rollup_key_model_month', stored.keyModelMonth, expected.keyModelMonth, (r) =>
      [r.organizationId, r.month, r.apiKeyId, r.model].join('/'),
    ),
    ...compareRows('rollup_key_day', stored.keyDay, expected.keyDay, (r) =>
      [r.organizationId, r.day, r.apiKeyId || '(web)'].join('/'),
    ),
  ];
}

function compareRows<T extends Counters>(
  table: RollupDifference['table'],
  stored: readonly T[],
  expected: readonly T[],
  keyOf: (row: T) => string,
): RollupDifference[] {
  const storedByKey = new Map(stored.map((r) => [keyOf(r), r]));
  const expectedByKey = new Map(expected.map((r) => [keyOf(r), r]));
  const differences: RollupDifference[] = [];
  for (const key of [...new Set([...storedByKey.keys(), ...expectedByKey.keys()])].sort()) {
    const s = storedByKey.get(key);
    const e = expectedByKey.get(key);
    // A stored row of zeros with no events is harmless (nothing to add up to), not a difference.
    if (s && e ? sameCounters(s, e) : isZero(s ?? e!)) continue;
    differences.push({ table, key, stored: s ? countersOf(s) : null, expected: e ? countersOf(e) : null });
  }
  return differences;
}

function countersOf(row: Counters): Counters {
  return { requests: row.requests, neurons: row.neurons, synapses: row.synapses, costNano: row.costNano };
}

function sameCounters(a: Counters, b: Counters): boolean {
  return a.requests === b.requests && a.neurons === b.neurons && a.synapses === b.synapses && a.costNano === b.costNano;
}

function isZero(c: Counters): boolean {
  return c.requests === 0n && c.neurons === 0n && c.synapses === 0n && c.costNano === 0n;
}

async function monthRange(db: Db, organizationId?: string): Promise<{ first: YearMonth; last: YearMonth } | null> {
  let events = db
    .selectFrom('usage_events')
    .select((eb) => [eb.fn.min('occurred_at').as('first'), eb.fn.max('occurred_at').as('last')]);
  let rollups = db
    .selectFrom('rollup_key_day')
    .select([sql<number>`min(day)`.as('first'), sql<number>`max(day)`.as('last')]);
  let months = db
    .selectFrom('rollup_org_model_month')
    .select([sql<number>`min(month)`.as('first'), sql<number>`max(month)`.as('last')]);
  let totals = db
    .selectFrom('rollup_org_month')
    .select([sql<number>`min(month)`.as('first'), sql<number>`max(month)`.as('last')]);
  if (organizationId !== undefined) {
    events = events.where('organization_id', '=', organizationId);
    rollups = rollups.where('organization_id', '=', organizationId);
    months = months.where('organization_id', '=', organizationId);
    totals = totals.where('organization_id', '=', organizationId);
  }
  const [e, r, m, t] = await Promise.all([
    events.executeTakeFirst(),
    rollups.executeTakeFirst(),
    months.executeTakeFirst(),
    totals.executeTakeFirst(),
  ]);
  const keys = [toNullableNumber(e?.first), toNullableNumber(e?.last)]
    .filter((ms): ms is number => ms !== null)
    .map(monthKeyOf);
  for (const day of [toNullableNumber(r?.first), toNullableNumber(r?.last)]) {
    if (day !== null) keys.push(Math.floor(day / 100));
  }
  for (const month of [m?.first, m?.last, t?.first, t?.last].map(toNullableNumber)) {
    if (month !== null) keys.push(month);
  }
  if (keys.length === 0) return null;
  const toYearMonth = (key: number): YearMonth => ({ year: Math.floor(key / 100), month: key % 100 });
  return { first: toYearMonth(Math.min(...keys)), last: toYearMonth(Math.max(...keys)) };
}
