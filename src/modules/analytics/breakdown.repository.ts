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
  /**
   * Set on the one row per bucket that sums the groups a top-N read left out: how many groups
   * it sums (its `values` are empty). Absent on the rows of single groups.
   */
  rest?: number;
}

const COUNTERS = Object.entries(COUNTER_COLUMNS) as Array<[keyof Counters, string]>;

// biome-ignore lint/suspicious/noExplicitAny: the rollup is chosen at run time from its descriptor
const untyped = (db: Db) => db as unknown as Kysely<any>;

function groupedQuery(db: Db, organizationId: string, read: RollupRead) {
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
  return query.groupBy([time, ...read.groupColumns]);
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
  const rows = await groupedQuery(db, organizationId, read).execute();
  return rows.map((row) => groupedRow(read, row));
}

/**
 * The groups of each bucket that can be among its `limit` highest (cost, then requests; every
 * group tied with the last of them included, so that the caller breaks those ties itself), and
 * per bucket one row summing the other groups, with their number in `rest`. Groups whose
 * counters are all zero are left out, as the answer leaves them out.
 */
export async function readTopGrouped(
  db: Db,
  organizationId: string,
  read: RollupRead,
  limit: number,
): Promise<GroupedRow[]> {
  const notZero = sql<boolean>`(${sql.join(
    COUNTERS.map(([, column]) => sql`sum(${sql.ref(column)}) <> 0`),
    sql` or `,
  )})`;
  const grouped = groupedQuery(db, organizationId, read).having(notZero);
  const groupRefs = read.groupColumns.map((_, i) => sql.ref(`g${i}`));
  const counterRefs = COUNTERS.map(([, column]) => sql.ref(column));
  const time = sql.ref('time');
  const nulls = read.groupColumns.map((_, i) => sql`null as ${sql.ref(`g${i}`)}`);
  const sums = COUNTERS.map(([, column]) => sql`sum(${sql.ref(column)}) as ${sql.ref(column)}`);
  const result = await sql<Record<string, unknown>>`
    with grouped as ${grouped /* Kysely puts a subquery in parentheses */},
    ranked as (
      select grouped.*, rank() over (partition by ${time} order by cost_nano desc, requests desc) as position
      from grouped
    )
    select ${time}, ${sql.join([...groupRefs, ...counterRefs])}, 0 as rest
    from ranked where position <= ${limit}
    union all
    select ${time}, ${sql.join([...nulls, ...sums])}, count(*) as rest
    from ranked where position > ${limit} group by ${time}`.execute(db);
  return result.rows.map((row) => {
    const rest = toNumber(row.rest);
    if (rest === 0) return groupedRow(read, row);
    const sum = groupedRow({ ...read, groupColumns: [] }, row);
    sum.rest = rest;
    return sum;
  });
}
