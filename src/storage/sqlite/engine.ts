/**
 * The embedded engine: one SQLite file (WAL), this process's connection for everything but
 * ingestion, and a writer thread with a connection of its own for ingestion (group-commit.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  Kysely,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  type SqliteStatement,
  sql,
} from 'kysely';
import type { DatabaseConfig } from '../../config.ts';
import type { CostSource } from '../../usage/event.ts';
import { deadlineAfter, withRetry } from '../retry.ts';
import type { Database, Db } from '../schema.ts';
import { pruneEndedReservations, raiseRemovedBefore, reservationRow } from '../statements.ts';
import type { Batch, CostUpdate, Storage, StorageOptions } from '../storage.ts';
import { connectSqlite, DEFAULT_BUSY_TIMEOUT_MS } from './connection.ts';
import { GroupCommit, type WriteGroup } from './group-commit.ts';
import { sqliteGroupWrite } from './group-write.ts';
import { writableProblem } from './readiness.ts';
import { SqliteWriterThread } from './writer-thread-client.ts';

/** The SQLite storage, with its connection for the tests that look at the file itself. */
export interface SqliteStorage extends Storage {
  readonly connection: SQLite.Database;
}

export function openSqliteStorage(
  config: Extract<DatabaseConfig, { kind: 'sqlite' }>,
  options: StorageOptions,
): SqliteStorage {
  const { timeoutMs } = options;
  if (config.path !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(config.path)), { recursive: true });
  const connection = connectSqlite(config.path, timeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: reusingStatements(connection) }),
  });
  // data_version moves when another connection (the ingestion writer, a replica, the CLI)
  // commits; total_changes() when this one writes.
  const marker = connection.prepare("select (select data_version from pragma_data_version) || '/' || total_changes()");
  marker.pluck();
  const transaction: Storage['transaction'] = (work) =>
    withRetry(() => db.transaction().execute(work), deadlineAfter(timeoutMs));

  // The writer thread for a database file; an in-memory database exists only on this
  // connection, so its groups are written here, in turn with the other transactions.
  const thread = connection.memory ? undefined : new SqliteWriterThread(connection.name);
  let writeGroup: WriteGroup;
  if (thread) {
    // Retried as transactions are, within the earliest deadline of the group.
    writeGroup = (batches) =>
      withRetry(
        () => thread.write(batches),
        Math.min(...batches.map((batch) => batch.deadline ?? Number.POSITIVE_INFINITY)),
      );
  } else {
    let write: ReturnType<typeof sqliteGroupWrite> | undefined;
    writeGroup = (batches) =>
      transaction(async () => {
        // Prepared on first use, once the migrations have created the tables.
        write ??= sqliteGroupWrite(connection);
        return write(batches);
      });
  }
  const groups = new GroupCommit(writeGroup);

  return {
    engine: 'sqlite',
    db,
    connection,
    transaction,
    withoutTimeout: (work) => work(db),
    writeBatch: (batch: Batch) =>
      groups.submit(timeoutMs === undefined ? batch : { ...batch, deadline: deadlineAfter(timeoutMs) }),
    // Transactions begin immediate, so each holds SQLite's single write lock already: every
    // other writer, in any process, waits until it ends.
    forUpdate: (query) => query,
    // In process, two statements cost no more than one.
    insertReservation: async (trx, reservation, pruneBefore) => {
      await pruneEndedReservations(trx, reservation.organizationId, pruneBefore).execute();
      await trx.insertInto('reservations').values(reservationRow(reservation)).execute();
    },
    updateEventCosts,
    // One writer at a time: the repricing transaction holds the write lock already.
    holdIngestion: async () => {},
    prepareEventMonths: async () => {},
    removeEventsBefore: async (horizon) => {
      await transaction((trx) => raiseRemovedBefore(trx, horizon).execute());
      let rows = 0;
      for (;;) {
        // A batch per transaction: ingestion writes between them.
        const { numAffectedRows } = await transaction((trx) =>
          sql`delete from usage_events where rowid in (
            select rowid from usage_events where occurred_at < ${horizon} limit ${RETENTION_BATCH})`.execute(trx),
        );
        rows += Number(numAffectedRows ?? 0);
        if (Number(numAffectedRows ?? 0) < RETENTION_BATCH) return { rows };
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    changeMarker: async () => marker.get() as string,
    writableProblem: () => writableProblem(db, connection),
    settingWarnings: async () => [],
    poolStats: () => undefined,
    onConnectionLost: () => () => {},
    prepareMigrations: async () => undefined,
    start: async () => {
      await thread?.open();
    },
    close: async () => {
      await thread?.close();
      await db.destroy();
    },
  };
}

/** Raw events deleted per transaction by retention. */
const RETENTION_BATCH = 5000;

/** Rows per statement: a CASE over n ids costs n comparisons per row, so n stays small. */
const CASE_CHUNK = 100;

/** No array parameters in SQLite: one CASE per column, a hundred events per statement. */
async function updateEventCosts(trx: Db, organizationId: string, updates: readonly CostUpdate[]): Promise<void> {
  for (let i = 0; i < updates.length; i += CASE_CHUNK) {
    const part = updates.slice(i, i + CASE_CHUNK);
    const cost = sql<bigint>`case ${sql.join(
      part.map((u) => sql`when id = ${u.id} then ${u.costNano}`),
      sql` `,
    )} end`;
    const source = sql<CostSource>`case ${sql.join(
      part.map((u) => sql`when id = ${u.id} then ${u.costSource}`),
      sql` `,
    )} end`;
    await trx
      .updateTable('usage_events')
      .set({ cost_nano: cost, cost_source: source })
      .where('organization_id', '=', organizationId)
      .where(
        'id',
        'in',
        part.map((u) => u.id),
      )
      .execute();
  }
}

/**
 * Transactions that take SQLite's write lock when they begin (BEGIN IMMEDIATE), waiting out
 * busy_timeout while ingestion's writer commits. Every transaction here writes; begun deferred,
 * one that read first would fail (SQLITE_BUSY_SNAPSHOT) whenever the writer committed meanwhile,
 * which under steady ingestion is most of the time.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }

  override createDriver() {
    return new (class extends SqliteDriver {
      override async beginTransaction(connection: DatabaseConnection) {
        await connection.executeQuery(CompiledQuery.raw('begin immediate'));
      }
    })(this.settings);
  }
}

/** Statements kept per SQL text; preparing one anew cost about as much as running a small query. */
const MAX_STATEMENTS = 500;

type Statement = SqliteStatement & { readonly busy: boolean };

/**
 * better-sqlite3 as Kysely sees it, but preparing each distinct statement only once. The
 * statements are dropped whenever the schema has changed (a migration, on this connection or
 * another), as the columns a statement's rows are made with (rowsMadeHere) may have changed too.
 */
function reusingStatements(sqlite: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, Statement>();
  const schemaVersion = sqlite.prepare('pragma schema_version').pluck();
  let knownVersion: unknown;
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      const version = schemaVersion.get();
      if (version !== knownVersion) statements.clear();
      knownVersion = version;
      const cached = statements.get(text);
      // A statement still iterating (a streamed query) cannot run again until it is done.
      if (cached && !cached.busy) return cached;
      const statement = rowsMadeHere(sqlite.prepare(text));
      if (statements.size >= MAX_STATEMENTS) statements.clear();
      statements.set(text, statement);
      return statement;
    },
  };
}

/**
 * A statement that returns rows, run in raw mode (each row an array of its values) and each row
 * then made an object by a function generated for the statement's columns. better-sqlite3 makes
 * each object through V8's C++ API, property by property: for a read of 360 rows of nine columns
 * that was about 40 % of the statement's time, and an object literal of a known shape is made
 * several times faster. The objects are the same: a column named twice keeps its last value.
 * Statements that return nothing run as they are.
 */
function rowsMadeHere(statement: SQLite.Statement): Statement {
  if (!statement.reader) return statement;
  let width = -1;
  let rowOf: (values: unknown[]) => unknown = () => undefined;
  /** The row maker for rows of this many values: made again should a schema change slip between prepare and run. */
  const maker = (values: unknown[]) => {
    if (values.length !== width) {
      const names = statement.columns().map((column) => column.name);
      const properties = names.map((name, i) => `${JSON.stringify(name)}: values[${i}]`).join(', ');
      rowOf = new Function('values', `return { ${properties} };`) as (values: unknown[]) => unknown;
      width = names.length;
    }
    return rowOf;
  };
  statement.raw(true);
  return {
    reader: true,
    get busy() {
      return statement.busy;
    },
    all(parameters) {
      const rows: unknown[] = statement.all(parameters);
      if (rows.length === 0) return rows;
      const make = maker(rows[0] as unknown[]);
      for (let i = 0; i < rows.length; i++) rows[i] = make(rows[i] as unknown[]);
      return rows;
    },
    run: (parameters) => statement.run(parameters),
    *iterate(parameters) {
      for (const values of statement.iterate(parameters)) yield maker(values as unknown[])(values as unknown[]);
    },
  };
}
