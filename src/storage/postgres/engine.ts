/**
 * The production engine: PostgreSQL through a pool of connections (pool.ts), each batch written
 * in one statement (batch-statement.ts), budget decisions serialized by row locks.
 */
import { Kysely, PostgresDialect, sql } from 'kysely';
import { ConfigError, type DatabaseConfig, DEFAULT_INGEST_CONCURRENCY } from '../../config.ts';
import { sharedReads } from '../read-memo.ts';
import { type ReadinessProblem, tablesQuery } from '../readiness.ts';
import { deadlineAfter, withRetry } from '../retry.ts';
import type { Database, Db } from '../schema.ts';
import { pruneEndedReservations, reservationRow } from '../statements.ts';
import type { CostUpdate, Storage, StorageOptions } from '../storage.ts';
import { PostgresBatchWriter } from './batch-writer.ts';
import { openPostgresPool } from './pool.ts';
import { postgresSettingWarnings } from './settings.ts';

export function openPostgresStorage(
  config: Extract<DatabaseConfig, { kind: 'postgres' }>,
  options: StorageOptions,
): Storage {
  const { timeoutMs } = options;
  const transactionPooling = config.poolMode === 'transaction';
  const lostListeners = new Set<(error: Error) => void>();
  const { pool, driverPool } = openPostgresPool({
    url: config.url,
    poolSize: config.poolSize,
    schema: config.schema,
    timeoutMs,
    transactionPooling,
    onLost: (error) => {
      for (const listener of lostListeners) listener(error);
    },
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: driverPool }) });
  const writer = new PostgresBatchWriter(db, config.ingestConcurrency ?? DEFAULT_INGEST_CONCURRENCY);
  // Two snapshots alike (xmin, xmax and the transactions in progress) see the same committed
  // data; any commit since, anywhere in the cluster, makes them differ. Concurrent requests
  // share one marker query instead of paying a round trip each. It is a prepared statement of
  // each connection's session, except behind a transaction-mode pooler, where the next run may
  // reach a server connection that never prepared it.
  const changeMarker = sharedReads(async () => {
    const { rows } = await pool.query<{ marker: string }>({
      ...(transactionPooling ? {} : { name: 'change_marker' }),
      text: 'select pg_current_snapshot()::text as marker',
    });
    return rows[0]!.marker;
  });

  return {
    engine: 'postgres',
    db,
    transaction: (work) => withRetry(() => db.transaction().execute(work), deadlineAfter(timeoutMs)),
    // Behind a transaction-mode pooler no bound was set by this process, and none can be lifted
    // for a session: the work runs under the role's statement_timeout, if it has one.
    withoutTimeout: (work) => (timeoutMs && !transactionPooling ? withoutStatementTimeout(db, work) : work(db)),
    writeBatch: (batch) =>
      writer.write(timeoutMs === undefined ? batch : { ...batch, deadline: deadlineAfter(timeoutMs) }),
    // Row locks, taken by the read that returns the rows: other writers of them, in any
    // process, wait until the transaction ends.
    forUpdate: (query) => query.forUpdate() as typeof query,
    // One statement: spares the budget check a round trip.
    insertReservation: async (trx, reservation, pruneBefore) => {
      await trx
        .with('pruned', () => pruneEndedReservations(trx, reservation.organizationId, pruneBefore))
        .insertInto('reservations')
        .values(reservationRow(reservation))
        .execute();
    },
    updateEventCosts,
    // Concurrent ingestion would add increments the rebuild of the month's rollups then loses.
    holdIngestion: async (trx) => {
      await sql`lock table usage_events in share row exclusive mode`.execute(trx);
    },
    changeMarker,
    writableProblem: () => writableProblem(db),
    settingWarnings: () => postgresSettingWarnings(db, transactionPooling),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    onConnectionLost: (listener) => {
      lostListeners.add(listener);
      return () => lostListeners.delete(listener);
    },
    // DATABASE_SCHEMA names a schema that may not exist yet: it is created, so that
    // current_schema() is never null and the migrations never look at another schema's tables.
    // Kysely looks for its lock table in every schema unless told which one; with several
    // schemas in one database (one per tenant or test) it must be ours.
    prepareMigrations: async () => {
      if (config.schema) {
        await sql`create schema if not exists ${sql.id(config.schema)}`.execute(db);
        if (transactionPooling) await requireSchemaOfRole(db, config.schema);
        return config.schema;
      }
      const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
      return rows[0]?.schema ?? undefined;
    },
    start: async () => {},
    close: async () => {
      await db.destroy();
    },
  };
}

/**
 * `work` on a connection of its own whose statement_timeout is lifted, and put back to the
 * pool's setting (RESET returns to the start-up value) before the connection is.
 */
function withoutStatementTimeout<T>(db: Kysely<Database>, work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (connection) => {
    await sql`set statement_timeout = 0`.execute(connection);
    try {
      return await work(connection);
    } finally {
      await sql`reset statement_timeout`.execute(connection);
    }
  });
}

/**
 * Behind a transaction-mode pooler this process cannot choose the schema of the connections it
 * is handed: the role (ALTER ROLE … SET search_path) or the pooler (PgBouncer's connect_query)
 * must. Anything else would read and write another schema's tables, so the start stops here.
 */
async function requireSchemaOfRole(db: Db, schema: string): Promise<void> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const actual = rows[0]?.schema ?? null;
  if (actual === schema) return;
  throw new ConfigError(
    `DATABASE_SCHEMA is ${schema}, but connections through the pooler use ${actual ?? 'no schema'}: with DATABASE_POOL_MODE=transaction, set search_path = ${schema} on the role (ALTER ROLE … SET search_path) or in the pooler (PgBouncer: connect_query in the database's entry)`,
  );
}

/** Rows per statement: three array parameters joined to the table, whatever their length. */
const UNNEST_CHUNK = 5000;

async function updateEventCosts(trx: Db, organizationId: string, updates: readonly CostUpdate[]): Promise<void> {
  for (let i = 0; i < updates.length; i += UNNEST_CHUNK) {
    const part = updates.slice(i, i + UNNEST_CHUNK);
    await sql`
      update usage_events as u
      set cost_nano = v.cost_nano, cost_source = v.cost_source
      from (
        select
          unnest(cast(${part.map((u) => u.id)} as text[])) as id,
          unnest(cast(${part.map((u) => u.costNano.toString())} as bigint[])) as cost_nano,
          unnest(cast(${part.map((u) => u.costSource)} as text[])) as cost_source
      ) as v
      where u.organization_id = ${organizationId} and u.id = v.id`.execute(trx);
  }
}

/**
 * PostgreSQL is read-only for this connection when the role, database or session sets
 * default_transaction_read_only, or the server is a standby: transaction_read_only says so.
 * The tables are checked for names and rights only (`where false`): PostgreSQL guards its own
 * pages, and a bloated table's first live row can be far in.
 */
async function writableProblem(db: Db): Promise<ReadinessProblem | undefined> {
  const { rows } = await sql<{ read_only: string }>`
    select current_setting('transaction_read_only') as read_only, ${tablesQuery('where false')}`.execute(db);
  return rows[0]?.read_only === 'on' ? 'read_only' : undefined;
}
