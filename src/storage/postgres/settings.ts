/**
 * Settings of the PostgreSQL server that the service relies on but does not own, checked once
 * at start. Every ingested batch updates rollup rows in place; without autovacuum (which needs
 * track_counts) their tables keep every old row version and their planner statistics are never
 * refreshed, so reads slow down as they grow.
 */
import { sql } from 'kysely';
import type { Db } from '../schema.ts';

const EXPECTED_ON = ['autovacuum', 'track_counts'] as const;

/**
 * One warning per expected setting that is off; none when all are as expected. Behind a
 * transaction-mode pooler (`transactionPooling`), this process sets no statement_timeout of its
 * own: a connection without one is warned about, as a stuck statement would then hold a request
 * (and a server connection) for as long as it runs.
 */
export async function postgresSettingWarnings(db: Db, transactionPooling = false): Promise<string[]> {
  const bound = transactionPooling ? await statementTimeout(db) : undefined;
  const unbounded =
    bound === '0'
      ? [
          'statement_timeout is 0 on the connections through the pooler, and with DATABASE_POOL_MODE=transaction this process cannot set it: set it on the role (ALTER ROLE … SET statement_timeout) or in the pooler (connect_query), e.g. to REQUEST_TIMEOUT_MS',
        ]
      : [];
  const { rows } = await sql<{ name: string; setting: string }>`
    select name, setting from pg_settings where name in (${sql.join(EXPECTED_ON)}) order by name`.execute(db);
  return unbounded.concat(
    rows
      .filter((row) => row.setting !== 'on')
      .map(
        (row) =>
          `PostgreSQL has ${row.name} off: the rollup tables keep every old row version until they are vacuumed, and reads slow down as they grow; turn it on, or run VACUUM ANALYZE regularly`,
      ),
  );
}

async function statementTimeout(db: Db): Promise<string | undefined> {
  const { rows } = await sql<{ value: string }>`select current_setting('statement_timeout') as value`.execute(db);
  return rows[0]?.value;
}
