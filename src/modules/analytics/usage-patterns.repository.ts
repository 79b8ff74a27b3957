/** Rollup reads behind the hourly usage, the heatmap and the trends. Each is bounded by organization and a key range. */
import { sql } from 'kysely';
import type { Db } from '../../storage/schema.ts';
import { toNumber } from '../../storage/values.ts';
import type { Counters } from '../../usage/counters.ts';
import { COUNTER_COLUMN_LIST } from '../../usage/rollups.ts';
import { COUNTER_SUMS, toCounters } from './analytics.repository.ts';
import type { WeekHourCell } from './usage-patterns.ts';

/** The organization-wide rollups of one time column each: per hour, per day, per month. */
const ORGANIZATION_SERIES = {
  hour: 'rollup_org_hour',
  day: 'rollup_org_day',
  month: 'rollup_org_month',
} as const;

/**
 * All usage of the organization per time key (hour key, yyyymmdd or yyyymm) from `first` to
 * `last`, both included, from its organization-wide rollup of that grain; keys without usage are
 * absent.
 */
export async function organizationSeries(
  db: Db,
  grain: keyof typeof ORGANIZATION_SERIES,
  organizationId: string,
  first: number,
  last: number,
): Promise<Map<number, Counters>> {
  const rows = await db
    .selectFrom(ORGANIZATION_SERIES[grain])
    .select([sql<number>`${sql.ref(grain)}`.as('time'), ...COUNTER_COLUMN_LIST])
    .where('organization_id', '=', organizationId)
    .where(sql.ref(grain), '>=', first)
    .where(sql.ref(grain), '<=', last)
    .execute();
  return new Map(rows.map((row) => [toNumber(row.time), toCounters(row)]));
}

/**
 * All usage per weekday (0 = Monday) and UTC hour of the day, from hour key `firstHour` to
 * `lastHour`, both included: at most 168 rows, summed by the database (90 days are 2160 hourly
 * rows, which cost far more to hand over one by one). Hour keys count from a Thursday 00:00 and
 * are positive, so integer division and remainder give the weekday and the hour alike on both
 * engines.
 */
export async function weekHourTotals(
  db: Db,
  organizationId: string,
  firstHour: number,
  lastHour: number,
): Promise<WeekHourCell[]> {
  const rows = await db
    .selectFrom('rollup_org_hour')
    .select([sql<number>`(hour / 24 + 3) % 7`.as('weekday'), sql<number>`hour % 24`.as('hour_of_day'), ...COUNTER_SUMS])
    .where('organization_id', '=', organizationId)
    .where('hour', '>=', firstHour)
    .where('hour', '<=', lastHour)
    // By position: PostgreSQL must see the expressions themselves, not their parameters.
    .groupBy([sql.raw('1'), sql.raw('2')])
    .execute();
  return rows.map((row) => ({ weekday: toNumber(row.weekday), hour: toNumber(row.hour_of_day), ...toCounters(row) }));
}
