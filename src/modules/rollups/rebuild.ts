/**
 * Rollups recomputed from raw events, one UTC month at a time, with SQL GROUP BY, for every
 * rollup ROLLUPS describes. Repricing rebuilds the months it changed with this, and `verify`
 * compares the stored rollups with it.
 */
import { type Kysely, sql } from 'kysely';
import { counterSumSql } from '../../storage/rollup-sql.ts';
import type { Db } from '../../storage/schema.ts';
import { toBigInt, toNumber } from '../../storage/values.ts';
import { addMonths, type YearMonth } from '../../time/calendar.ts';
import { COUNTER_COLUMNS, COUNTER_NAMES, type CounterRow, type Counters, emptyCounters } from '../../usage/counters.ts';
import {
  COUNTER_COLUMN_LIST,
  countsSql,
  keyColumns,
  ROLLUPS,
  type RollupDescriptor,
  type RollupRow,
  type RollupRows,
  tagEntriesSql,
} from '../../usage/rollups.ts';

/** A month's epoch-ms bounds [start, end). */
export function monthBounds(month: YearMonth): [number, number] {
  const next = addMonths(month, 1);
  return [Date.UTC(month.year, month.month - 1, 1), Date.UTC(next.year, next.month - 1, 1)];
}

/** The rollups are written through Kysely with their table chosen at run time, which it cannot type. */
// biome-ignore lint/suspicious/noExplicitAny: see above
const untyped = (db: Db) => db as unknown as Kysely<any>;

/** The counters of a row that holds them in their columns (a stored rollup row, a sum per column). */
export function countersOfRow(row: CounterRow): Counters {
  const counters = emptyCounters();
  for (const name of COUNTER_NAMES) counters[name] = toBigInt(row[COUNTER_COLUMNS[name]]);
  return counters;
}

/** The row as the rollup stores it, or as a query aliased it (`time`, `d0`, `d1`, …). */
function toRollupRow(rollup: RollupDescriptor, row: Record<string, unknown>, columns: string[]): RollupRow {
  return {
    organizationId: String(row.organization_id),
    time: toNumber(row[columns[0]!]),
    values: rollup.dimensions.map((_, i) => String(row[columns[i + 1]!])),
    ...countersOfRow(row as CounterRow),
  };
}

/**
 * The query that computes one rollup of one month from the raw events, for some organizations or
 * all: its columns are the rollup's key columns then its counters, in the table's order, aliased
 * `organization_id`, `time`, `d0`, `d1`, … and the counter columns' own names.
 */
function recomputeQuery(db: Db, rollup: RollupDescriptor, month: YearMonth, organizationIds?: readonly string[]) {
  const [start, end] = monthBounds(month);
  const dimensions = rollup.dimensions.map((d, i) => sql.raw(d.sql).as(`d${i}`));
  // An expanding rollup reads each event once per tag (usage/rollups.ts: tagEntriesSql).
  const from =
    rollup.expand === 'tags' ? ['usage_events', sql.raw(tagEntriesSql('usage_events')).as('tag')] : ['usage_events'];
  let query = untyped(db)
    .selectFrom(from as ['usage_events'])
    .select([
      'organization_id',
      sql.raw(rollup.grain.keySql(month)).as('time'),
      ...dimensions,
      ...COUNTER_COLUMN_LIST.map((column) => sql.raw<bigint>(counterSumSql(column)).as(column)),
    ])
    .where('occurred_at', '>=', BigInt(start))
    .where('occurred_at', '<', BigInt(end));
  if (organizationIds) query = query.where('organization_id', 'in', organizationIds);
  const only = countsSql(rollup);
  if (only) query = query.where(sql.raw<boolean>(only));
  // By position: PostgreSQL must see the key expressions themselves, not their parameters.
  return query.groupBy(keyColumns(rollup).map((_, i) => sql.raw(String(i + 1))));
}

/** One rollup of one month as the raw events say it should be, for some organizations or all. */
async function recomputeRollup(
  db: Db,
  rollup: RollupDescriptor,
  month: YearMonth,
  organizationIds?: readonly string[],
): Promise<RollupRow[]> {
  const rows = await recomputeQuery(db, rollup, month, organizationIds).execute();
  const aliases = ['time', ...rollup.dimensions.map((_, i) => `d${i}`)];
  return rows.map((row) => toRollupRow(rollup, row, aliases));
}

/** One rollup of one month as stored. */
async function storedRollup(
  db: Db,
  rollup: RollupDescriptor,
  month: YearMonth,
  organizationIds?: readonly string[],
): Promise<RollupRow[]> {
  const [first, last] = rollup.grain.keysOfMonth(month);
  let query = untyped(db)
    .selectFrom(rollup.table)
    .selectAll()
    .where(rollup.grain.column, '>=', first)
    .where(rollup.grain.column, '<=', last);
  if (organizationIds) query = query.where('organization_id', 'in', organizationIds);
  const rows = await query.execute();
  const columns = [rollup.grain.column, ...rollup.dimensions.map((d) => d.column)];
  return rows.map((row) => toRollupRow(rollup, row, columns));
}

/** Every rollup of one month as the raw events say it should be, for some organizations or all. */
export async function recomputeMonth(
  db: Db,
  month: YearMonth,
  organizationIds?: readonly string[],
): Promise<RollupRows> {
  return Promise.all(
    ROLLUPS.map(async (rollup) => ({
      rollup,
      rows: organizationIds?.length === 0 ? [] : await recomputeRollup(db, rollup, month, organizationIds),
    })),
  );
}

/** Every rollup of one month as stored, for some organizations or all. */
export async function storedMonth(db: Db, month: YearMonth, organizationIds?: readonly string[]): Promise<RollupRows> {
  return Promise.all(
    ROLLUPS.map(async (rollup) => ({
      rollup,
      rows: organizationIds?.length === 0 ? [] : await storedRollup(db, rollup, month, organizationIds),
    })),
  );
}

/**
 * Replaces the month's rollup rows of these organizations with the ones recomputed from their
 * events, each rollup with one INSERT … SELECT, so that no row passes through this process. Run
 * it inside the transaction that changed the events.
 */
export async function rebuildMonth(db: Db, month: YearMonth, organizationIds: readonly string[]): Promise<void> {
  if (organizationIds.length === 0) return;
  for (const rollup of ROLLUPS) {
    const [first, last] = rollup.grain.keysOfMonth(month);
    await untyped(db)
      .deleteFrom(rollup.table)
      .where('organization_id', 'in', organizationIds)
      .where(rollup.grain.column, '>=', first)
      .where(rollup.grain.column, '<=', last)
      .execute();
    await untyped(db)
      .insertInto(rollup.table)
      .columns([...keyColumns(rollup), ...COUNTER_COLUMN_LIST])
      .expression(recomputeQuery(db, rollup, month, organizationIds))
      .execute();
  }
}
