/**
 * Settings of the PostgreSQL server that the service relies on but does not own, checked once
 * at start. Every ingested batch updates rollup rows in place; without autovacuum (which needs
 * track_counts) their tables keep every old row version and their planner statistics are never
 * refreshed, so reads slow down as they grow.
 */
import { sql } from 'kysely';
import type { Db } from '../schema.ts';

const EXPECTED_ON = ['autovacuum', 'track_counts'] as const;

/** One warning per expected setting that is off; none when all are as expected. */
export async function postgresSettingWarnings(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string; setting: string }>`
    select name, setting from pg_settings where name in (${sql.join(EXPECTED_ON)}) order by name`.execute(db);
  return rows
    .filter((row) => row.setting !== 'on')
    .map(
      (row) =>
        `PostgreSQL has ${row.name} off: the rollup tables keep every old row version until they are vacuumed, and reads slow down as they grow; turn it on, or run VACUUM ANALYZE regularly`,
    );
}
