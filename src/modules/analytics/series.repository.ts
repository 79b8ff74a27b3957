/** Rollup reads behind the time series. Each is bounded by organization and a key range. */

import type { Db } from '../../storage/schema.ts';
import { toBigInt } from '../../storage/values.ts';
import { dayKeyRange, type YearMonth } from '../../time/calendar.ts';
import type { Counters } from '../../usage/counters.ts';
import { NO_API_KEY } from '../../usage/event.ts';
import { COUNTER_SUMS, toCounters } from './analytics.repository.ts';
import type { KeyTotals } from './series.ts';

/** Usage per day (yyyymmdd) of one month: all of it, or only what was made with an API key. */
export async function dailyTotals(
  db: Db,
  organizationId: string,
  period: YearMonth,
  scope: 'all' | 'programmatic',
): Promise<Map<number, Counters>> {
  const [first, last] = dayKeyRange(period);
  let query = db
    .selectFrom('rollup_key_day')
    .select(['day', ...COUNTER_SUMS])
    .where('organization_id', '=', organizationId)
    .where('day', '>=', first)
    .where('day', '<=', last);
  if (scope === 'programmatic') query = query.where('api_key_id', '<>', NO_API_KEY);
  const rows = await query.groupBy('day').execute();
  return new Map(rows.map((row) => [Number(toBigInt(row.day)), toCounters(row)]));
}

/** All usage per month (yyyymm) from `firstMonth` to `lastMonth`, both included; months without usage are absent. */
export async function monthlyTotals(
  db: Db,
  organizationId: string,
  firstMonth: number,
  lastMonth: number,
): Promise<Map<number, Counters>> {
  const rows = await db
    .selectFrom('rollup_org_model_month')
    .select(['month', ...COUNTER_SUMS])
    .where('organization_id', '=', organizationId)
    .where('month', '>=', firstMonth)
    .where('month', '<=', lastMonth)
    .groupBy('month')
    .execute();
  return new Map(rows.map((row) => [Number(toBigInt(row.month)), toCounters(row)]));
}

/** Programmatic usage of one month per API key, unordered (ranking happens in code, see rankKeys). */
export async function keyTotalsOfMonth(db: Db, organizationId: string, month: number): Promise<KeyTotals[]> {
  const rows = await db
    .selectFrom('rollup_key_model_month')
    .select(['api_key_id', ...COUNTER_SUMS])
    .where('organization_id', '=', organizationId)
    .where('month', '=', month)
    .groupBy('api_key_id')
    .execute();
  return rows.map((row) => ({ apiKeyId: row.api_key_id, ...toCounters(row) }));
}

/** Names of the given keys of the organization, deleted ones included (their usage still counts). */
export async function keyNames(db: Db, organizationId: string, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('api_keys')
    .select(['id', 'name'])
    .where('organization_id', '=', organizationId)
    .where('id', 'in', ids)
    .execute();
  return new Map(rows.map((row) => [row.id, row.name]));
}
