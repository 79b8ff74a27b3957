/**
 * Compares every stored rollup row with the same row recomputed from raw events, month by
 * month, for every rollup ROLLUPS describes. Differences mean an increment was lost or doubled;
 * `freddy-analytics verify` and the reliability tests use this.
 */
import { type Kysely, sql } from 'kysely';
import type { Db } from '../../storage/schema.ts';
import { toNullableNumber } from '../../storage/values.ts';
import { addMonths, monthKey, monthKeyOf, type YearMonth, yearMonthOf } from '../../time/calendar.ts';
import { type Counters, countersOf, isZero, sameCounters } from '../../usage/counters.ts';
import { ROLLUPS, type RollupRow, type RollupTable, rowKey } from '../../usage/rollups.ts';
import { eventsRemovedBefore } from '../retention/retention.repository.ts';
import { recomputeMonth, storedMonth } from './rebuild.ts';

export interface RollupDifference {
  table: RollupTable;
  organizationId: string;
  /** The month (yyyymm) the row belongs to. */
  month: number;
  /** The row's key columns, e.g. `org_a/202511/gpt-4o` (`(web)` for usage without a key). */
  key: string;
  stored: Counters | null;
  expected: Counters | null;
}

export interface RollupCheck {
  monthsChecked: number;
  differences: RollupDifference[];
  /**
   * The month (yyyymm) before which retention removed the raw events, or 0: the months before it
   * are not checked, since their rollups are all that is left of them.
   */
  eventsRemovedBefore: number;
}

/**
 * Checks every month that has events or rollup rows, for one organization or all, except the
 * months whose raw events retention removed.
 */
export async function checkRollups(db: Db, organizationId?: string): Promise<RollupCheck> {
  const [range, removedBefore] = await Promise.all([monthRange(db, organizationId), eventsRemovedBefore(db)]);
  const eventsRemoved = removedBefore > 0 ? monthKeyOf(removedBefore) : 0;
  const differences: RollupDifference[] = [];
  if (!range) return { monthsChecked: 0, differences, eventsRemovedBefore: eventsRemoved };
  const orgs = organizationId === undefined ? undefined : [organizationId];
  let monthsChecked = 0;
  let first = range.first;
  if (eventsRemoved > monthKey(first)) first = yearMonthOf(removedBefore);
  for (let month = first; monthKey(month) <= monthKey(range.last); month = addMonths(month, 1)) {
    differences.push(...(await checkMonth(db, month, orgs)));
    monthsChecked++;
  }
  return { monthsChecked, differences, eventsRemovedBefore: eventsRemoved };
}

/** The differences of one month, for some organizations or all. */
export async function checkMonth(
  db: Db,
  month: YearMonth,
  organizationIds?: readonly string[],
): Promise<RollupDifference[]> {
  const [stored, expected] = await Promise.all([
    storedMonth(db, month, organizationIds),
    recomputeMonth(db, month, organizationIds),
  ]);
  return stored.flatMap(({ rollup, rows }, i) =>
    compareRows(rollup.table as RollupTable, rows, expected[i]!.rows).map((difference) => ({
      ...difference,
      month: monthKey(month),
    })),
  );
}

const shownKey = (row: RollupRow) => rowKey({ ...row, values: row.values.map((v) => v || '(web)') });

function compareRows(
  table: RollupTable,
  stored: RollupRow[],
  expected: RollupRow[],
): Array<Omit<RollupDifference, 'month'>> {
  const storedByKey = new Map(stored.map((r) => [shownKey(r), r]));
  const expectedByKey = new Map(expected.map((r) => [shownKey(r), r]));
  const differences: Array<Omit<RollupDifference, 'month'>> = [];
  for (const key of [...new Set([...storedByKey.keys(), ...expectedByKey.keys()])].sort()) {
    const s = storedByKey.get(key);
    const e = expectedByKey.get(key);
    // A stored row of zeros with no events is harmless (nothing to add up to), not a difference.
    if (s && e ? sameCounters(s, e) : isZero(s ?? e!)) continue;
    differences.push({
      table,
      organizationId: (s ?? e)!.organizationId,
      key,
      stored: s ? countersOf(s) : null,
      expected: e ? countersOf(e) : null,
    });
  }
  return differences;
}

// biome-ignore lint/suspicious/noExplicitAny: the rollup tables are chosen at run time
const untyped = (db: Db) => db as unknown as Kysely<any>;

/** The first and last month with events or rollup rows. */
async function monthRange(db: Db, organizationId?: string): Promise<{ first: YearMonth; last: YearMonth } | null> {
  let events = untyped(db)
    .selectFrom('usage_events')
    .select([sql`min(occurred_at)`.as('first'), sql`max(occurred_at)`.as('last')]);
  if (organizationId !== undefined) events = events.where('organization_id', '=', organizationId);
  const rollupRanges = ROLLUPS.map((rollup) => {
    let query = untyped(db)
      .selectFrom(rollup.table)
      .select([
        sql`min(${sql.ref(rollup.grain.column)})`.as('first'),
        sql`max(${sql.ref(rollup.grain.column)})`.as('last'),
      ]);
    if (organizationId !== undefined) query = query.where('organization_id', '=', organizationId);
    return query
      .executeTakeFirst()
      .then((row) =>
        [row?.first, row?.last]
          .map(toNullableNumber)
          .flatMap((key) => (key === null ? [] : [rollup.grain.monthOfKey(key)])),
      );
  });
  const [e, ...months] = await Promise.all([events.executeTakeFirst(), ...rollupRanges]);
  const keys = [toNullableNumber(e?.first), toNullableNumber(e?.last)]
    .filter((ms): ms is number => ms !== null)
    .map(monthKeyOf);
  keys.push(...(months as number[][]).flat());
  if (keys.length === 0) return null;
  const toYearMonth = (key: number): YearMonth => ({ year: Math.floor(key / 100), month: key % 100 });
  return { first: toYearMonth(Math.min(...keys)), last: toYearMonth(Math.max(...keys)) };
}
