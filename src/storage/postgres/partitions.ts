/**
 * PostgreSQL keeps raw events in one partition per UTC month (usage_events_pYYYYMM, range of
 * occurred_at in epoch ms; see the 2026_12_03_0202 migration). Partitions are created ahead of
 * time (the current month and the next ones, at start and periodically) and on demand when a
 * batch brings an event for a month that has none. There is no default partition: a row there
 * would keep its month's partition from ever being created, and a late event is better written
 * to the partition retention drops with its month. Retention drops whole partitions.
 */
import { sql } from 'kysely';
import { monthKeyOf } from '../../time/calendar.ts';
import type { Db } from '../schema.ts';
import { raiseRemovedBefore } from '../statements.ts';

/** A UTC month (yyyymm) as a partition: its name and bounds [from, to) in epoch ms. */
export function monthPartition(month: number): { name: string; from: number; to: number } {
  const year = Math.floor(month / 100);
  const index = month % 100;
  return { name: `usage_events_p${month}`, from: Date.UTC(year, index - 1, 1), to: Date.UTC(year, index, 1) };
}

/** Whether an insert failed because no partition takes one of its rows. */
export function isMissingPartition(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === '23514' && typeof message === 'string' && message.startsWith('no partition of relation');
}

/** An advisory lock of this schema's, for the transaction: `name` says what it guards. */
const lockKey = (name: string) => sql`hashtext(current_schema() || ${`:${name}`})`;

/**
 * Creates the partitions of the months (yyyymm) that have none. Processes doing the same at once
 * take turns (one advisory lock), so that none fails on a partition another just created.
 */
export async function createMonthPartitions(db: Db, months: readonly number[]): Promise<void> {
  if (months.length === 0) return;
  await (db.isTransaction ? run(db) : db.transaction().execute(run));
  async function run(trx: Db) {
    await sql`select pg_advisory_xact_lock(${lockKey('usage_events partitions')})`.execute(trx);
    const existing = new Set(await partitionMonths(trx));
    for (const month of [...new Set(months)].sort((a, b) => a - b)) {
      if (existing.has(month)) continue;
      const { name, from, to } = monthPartition(month);
      // Bounds are integers computed above; DDL takes no parameters.
      await sql`create table ${sql.id(name)} partition of usage_events
        for values from (${sql.lit(from)}) to (${sql.lit(to)})`.execute(trx);
    }
  }
}

/** The months (yyyymm) that have a partition, in order. */
export async function partitionMonths(db: Db): Promise<number[]> {
  const { rows } = await sql<{ name: string }>`
    select c.relname as name from pg_catalog.pg_inherits i join pg_catalog.pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'usage_events'::regclass`.execute(db);
  return rows
    .map((row) => /^usage_events_p(\d{6})$/.exec(row.name)?.[1])
    .filter((month): month is string => month !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * Drops the partitions of the months before `horizon` (the start of a month), with their ids in
 * usage_event_ids, in one transaction that first records the horizon. One process at a time:
 * undefined when another holds the lock. The ids go first, while ingestion still runs (it never
 * writes those months: it refuses events before the horizon); the drops, which hold off
 * ingestion until the commit, come last.
 */
export async function dropMonthPartitionsBefore(db: Db, horizon: number): Promise<number[] | undefined> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ locked: boolean }>`
      select pg_try_advisory_xact_lock(${lockKey('raw event retention')}) as locked`.execute(trx);
    if (!rows[0]?.locked) return undefined;
    await raiseRemovedBefore(trx, horizon).execute();
    const dropped = (await partitionMonths(trx)).filter((month) => month < monthKeyOf(horizon));
    for (const month of dropped) {
      await sql`delete from usage_event_ids as i using ${sql.id(monthPartition(month).name)} as e
        where i.organization_id = e.organization_id and i.id = e.id`.execute(trx);
    }
    // A drop waits for every reader of the table, and ingestion waits behind it: rather than
    // hold it off behind a long read, give up and try again at the next run.
    if (dropped.length > 0) await sql`set local lock_timeout = '5s'`.execute(trx);
    for (const month of dropped) await sql`drop table ${sql.id(monthPartition(month).name)}`.execute(trx);
    return dropped;
  });
}
