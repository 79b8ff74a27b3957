/** Rollup reads behind the hourly usage, the heatmap and the trends. Each is bounded by organization and a key range. */
import type { Db } from '../../storage/schema.ts';
import { toNumber } from '../../storage/values.ts';
import type { Counters } from '../../usage/counters.ts';
import { toCounters } from './analytics.repository.ts';

/** All usage per hour key from `firstHour` to `lastHour`, both included; hours without usage are absent. */
export async function hourlyTotals(
  db: Db,
  organizationId: string,
  firstHour: number,
  lastHour: number,
): Promise<Map<number, Counters>> {
  const rows = await db
    .selectFrom('rollup_org_hour')
    .select(['hour', 'requests', 'neurons', 'synapses', 'cost_nano'])
    .where('organization_id', '=', organizationId)
    .where('hour', '>=', firstHour)
    .where('hour', '<=', lastHour)
    .execute();
  return new Map(rows.map((row) => [toNumber(row.hour), toCounters(row)]));
}

/** All usage per month (yyyymm) from the organization's monthly totals; months without usage are absent. */
export async function organizationMonths(
  db: Db,
  organizationId: string,
  firstMonth: number,
  lastMonth: number,
): Promise<Map<number, Counters>> {
  const rows = await db
    .selectFrom('rollup_org_month')
    .select(['month', 'requests', 'neurons', 'synapses', 'cost_nano'])
    .where('organization_id', '=', organizationId)
    .where('month', '>=', firstMonth)
    .where('month', '<=', lastMonth)
    .execute();
  return new Map(rows.map((row) => [toNumber(row.month), toCounters(row)]));
}

/** All usage per day (yyyymmdd) from `firstDay` to `lastDay`, both included; days without usage are absent. */
export async function organizationDays(
  db: Db,
  organizationId: string,
  firstDay: number,
  lastDay: number,
): Promise<Map<number, Counters>> {
  const rows = await db
    .selectFrom('rollup_org_day')
    .select(['day', 'requests', 'neurons', 'synapses', 'cost_nano'])
    .where('organization_id', '=', organizationId)
    .where('day', '>=', firstDay)
    .where('day', '<=', lastDay)
    .execute();
  return new Map(rows.map((row) => [toNumber(row.day), toCounters(row)]));
}
