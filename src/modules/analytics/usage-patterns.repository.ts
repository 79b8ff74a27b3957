/** Rollup reads behind the hourly usage, the heatmap and the trends. Each is bounded by organization and a key range. */
import { sql } from 'kysely';
import type { Db } from '../../storage/schema.ts';
import { toBigInt, toNumber } from '../../storage/values.ts';
import type { Counters } from '../../usage/counters.ts';
import { COUNTER_COLUMN_LIST } from '../../usage/rollups.ts';
import { toCounters } from './analytics.repository.ts';
import type { MetricCounters, WeekHourCell } from './usage-patterns.ts';

/**
 * All usage of the organization per hour key from `first` to `last`, both included, from its
 * hourly rollup; hours without usage are absent.
 */
export async function hourSeries(
  db: Db,
  organizationId: string,
  first: number,
  last: number,
): Promise<Map<number, Counters>> {
  const rows = await db
    .selectFrom('rollup_org_hour')
    .select(['hour', ...COUNTER_COLUMN_LIST])
    .where('organization_id', '=', organizationId)
    .where('hour', '>=', first)
    .where('hour', '<=', last)
    .execute();
  return new Map(rows.map((row) => [toNumber(row.hour), toCounters(row)]));
}

const metricCounters = (row: { neurons: unknown; synapses: unknown }): MetricCounters => ({
  neurons: toBigInt(row.neurons),
  synapses: toBigInt(row.synapses),
});

/** Hours in a week: hour keys count from a Thursday 00:00, so `hour % 168` names the weekday and the hour alike. */
const WEEK_HOURS = 168;

/**
 * Neurons and synapses per weekday (0 = Monday) and UTC hour of the day, from hour key
 * `firstHour` to `lastHour`, both included: at most 168 rows, summed by the database (90 days
 * are 2160 hourly rows, which cost far more to hand over one by one), and only the two counters
 * the heatmap counts. Hour keys are positive, so the remainder is the same on both engines.
 */
export async function weekHourTotals(
  db: Db,
  organizationId: string,
  firstHour: number,
  lastHour: number,
): Promise<WeekHourCell[]> {
  const rows = await db
    .selectFrom('rollup_org_hour')
    .select([
      sql<number>`hour % ${sql.lit(WEEK_HOURS)}`.as('week_hour'),
      sql<bigint>`sum(neurons)`.as('neurons'),
      sql<bigint>`sum(synapses)`.as('synapses'),
    ])
    .where('organization_id', '=', organizationId)
    .where('hour', '>=', firstHour)
    .where('hour', '<=', lastHour)
    // By position: PostgreSQL must see the expression itself, not a parameter.
    .groupBy(sql.raw('1'))
    .execute();
  return rows.map((row) => {
    const weekHour = toNumber(row.week_hour);
    // Hour key 0 was a Thursday (3 counting from Monday).
    return { weekday: (Math.floor(weekHour / 24) + 3) % 7, hour: weekHour % 24, ...metricCounters(row) };
  });
}

/**
 * Whether the day of a yyyymmdd key is a Saturday or a Sunday, in SQL: Zeller's congruence
 * (0 = Saturday, 1 = Sunday) in integer arithmetic over positive terms, which both engines
 * truncate alike.
 */
const MONTH_OF_DAY = 'day / 100 % 100';
const MARCH_BASED = `case when ${MONTH_OF_DAY} < 3 then 1 else 0 end`;
const ZELLER_YEAR = `(day / 10000 - ${MARCH_BASED})`;
const ZELLER_MONTH = `(${MONTH_OF_DAY} + 12 * ${MARCH_BASED})`;
export const WEEKEND_DAY_SQL = `case when (day % 100 + 13 * (${ZELLER_MONTH} + 1) / 5 + ${ZELLER_YEAR} + ${ZELLER_YEAR} / 4 - ${ZELLER_YEAR} / 100 + ${ZELLER_YEAR} / 400) % 7 < 2 then 1 else 0 end`;

/** What the trends read: each month's neurons and synapses, and those of all weekdays and all weekend days. */
export interface TrendTotals {
  /** By month key (yyyymm); months without usage are absent. */
  byMonth: Map<number, MetricCounters>;
  weekdays: MetricCounters;
  weekend: MetricCounters;
}

/**
 * The months `firstMonth` … `lastMonth` (yyyymm) from the monthly rollup, and the days
 * `firstDay` … `lastDay` (yyyymmdd) from the daily one summed into weekdays and weekend days:
 * one statement, at most 26 rows whatever the number of days.
 */
export async function trendTotals(
  db: Db,
  organizationId: string,
  [firstMonth, lastMonth]: readonly [number, number],
  [firstDay, lastDay]: readonly [number, number],
): Promise<TrendTotals> {
  const months = db
    .selectFrom('rollup_org_month')
    .select([sql<number>`0`.as('part'), 'month as key', 'neurons', 'synapses'])
    .where('organization_id', '=', organizationId)
    .where('month', '>=', firstMonth)
    .where('month', '<=', lastMonth);
  const days = db
    .selectFrom('rollup_org_day')
    .select([
      sql<number>`1`.as('part'),
      sql<number>`${sql.raw(WEEKEND_DAY_SQL)}`.as('key'),
      sql<bigint>`sum(neurons)`.as('neurons'),
      sql<bigint>`sum(synapses)`.as('synapses'),
    ])
    .where('organization_id', '=', organizationId)
    .where('day', '>=', firstDay)
    .where('day', '<=', lastDay)
    .groupBy(sql.raw('2'));
  const rows = await months.unionAll(days).execute();
  const totals: TrendTotals = {
    byMonth: new Map(),
    weekdays: { neurons: 0n, synapses: 0n },
    weekend: { neurons: 0n, synapses: 0n },
  };
  for (const row of rows) {
    const key = toNumber(row.key);
    if (toNumber(row.part) === 0) totals.byMonth.set(key, metricCounters(row));
    else if (key === 1) totals.weekend = metricCounters(row);
    else totals.weekdays = metricCounters(row);
  }
  return totals;
}
