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

export async function readGrouped(db: Db, organizationId: string, read: RollupRead): Promise<GroupedRow[]> {
  const time = read.grain.column;
  let query = untyped(db)
    .selectFrom(read.table)
    .select([
      sql.ref(time).as('time'),
      ...read.groupColumns.map((column, i) => sql.ref(column).as(`g${i}`)),
      ...COUNTERS.map(([, column]) => sql<bigint>`sum(${sql.ref(column)})`.as(column)),
    ])
    .where('organization_id', '=', organizationId)
    .where(time, '>=', read.first)
    .where(time, '<=', read.last);
  for (const [column, value] of read.where) query = query.where(column, '=', value);
  const rows = await query.groupBy([time, ...read.groupColumns]).execute();
  return rows.map((row) => {
    const grouped = {
      time: toNumber(row.time),
      values: read.groupColumns.map((_, i) => String(row[`g${i}`])),
    } as GroupedRow;
    for (const [counter, column] of COUNTERS) grouped[counter] = toBigInt(row[column]);
    return grouped;
  });
}
