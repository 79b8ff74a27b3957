/** The breakdown's rollup reads: one grouped query per span, bounded by organization and keys. */
import { type Kysely, sql } from 'kysely';
import type { Db } from '../../storage/schema.ts';
import { toBigInt, toNumber } from '../../storage/values.ts';
import { COUNTER_COLUMNS, type Counters } from '../../usage/counters.ts';
import type { RollupRead } from './breakdown-plan.ts';

/** A group's counters in one bucket of a rollup. */
export interface GroupedRow extends Counters {
  /** The grain's key of the bucket. */
  time: number;
  /** One value per group column of the read. */
  values: string[];
}

const COUNTERS = Object.entries(COUNTER_COLUMNS) as Array<[keyof Counters, string]>;

// biome-ignore lint/suspicious/noExplicitAny: the rollup is chosen at run time from its descriptor
const untyped = (db: Db) => db as unknown as Kysely<any>;

/**
 * Per bucket of the read, the groups that can be among the `limit` with the highest cost: those
 * whose cost reaches the cost of the `limit`-th highest, so ties with it are all there and the
 * caller orders them by its own rules. Two range scans of the rollup's index by cost per bucket
 * (see `rankedByCost`), whatever the number of groups; a read has one group column, which
 * every row of the rollup holds once per bucket.
 */
export async function readTop(db: Db, organizationId: string, read: RollupRead, limit: number): Promise<GroupedRow[]> {
  const time = read.grain.column;
  const rows: GroupedRow[] = [];
  for (const key of bucketKeys(read)) {
    let bucket = untyped(db).selectFrom(read.table).where('organization_id', '=', organizationId).where(time, '=', key);
    for (const [column, value] of read.where) bucket = bucket.where(column, '=', value);
    const lowest = await bucket
      .select('cost_nano')
      .orderBy('cost_nano', 'desc')
      .limit(1)
      .offset(limit - 1)
      .executeTakeFirst();
    const found = await bucket
      .select([
        sql.ref(time).as('time'),
        ...read.groupColumns.map((column, i) => sql.ref(column).as(`g${i}`)),
        ...COUNTERS.map(([, column]) => sql.ref(column).as(column)),
      ])
      .$if(lowest !== undefined, (q) => q.where('cost_nano', '>=', lowest!.cost_nano))
      .execute();
    rows.push(...found.map((row) => groupedRow(read, row)));
  }
  return rows;
}

/** The keys of the buckets of a read's span; only a month read is ranked, so months. */
function bucketKeys(read: RollupRead): number[] {
  if (read.grain.column !== 'month') throw new Error(`a ranked read of ${read.grain.column}s is not served`);
  const keys: number[] = [];
  for (let key = read.first; key <= read.last; key = key % 100 === 12 ? key + 89 : key + 1) keys.push(key);
  return keys;
}

function groupedRow(read: RollupRead, row: Record<string, unknown>): GroupedRow {
  const grouped = {
    time: toNumber(row.time),
    values: read.groupColumns.map((_, i) => String(row[`g${i}`])),
  } as GroupedRow;
  for (const [counter, column] of COUNTERS) grouped[counter] = toBigInt(row[column]);
  return grouped;
}

export async function readGrouped(db: Db, organizationId: string, read: RollupRead): Promise<GroupedRow[]> {
  const time = read.grain.column;
  let query = untyped(db)
    .selectFrom(read.table)
    .select([
      sql.ref(time).as('time'),
      ...read.groupColumns.map((column, i) => sql.ref(column).as(`g${i}`)),
      ...COUNTERS.map(([, column]) =>
        read.rowPerGroup ? sql.ref(column).as(column) : sql<bigint>`sum(${sql.ref(column)})`.as(column),
      ),
    ])
    .where('organization_id', '=', organizationId)
    .where(time, '>=', read.first)
    .where(time, '<=', read.last);
  for (const [column, value] of read.where) query = query.where(column, '=', value);
  const rows = await query.$if(!read.rowPerGroup, (q) => q.groupBy([time, ...read.groupColumns])).execute();
  return rows.map((row) => groupedRow(read, row));
}
