/**
 * Opens the database named by the configuration (embedded SQLite or PostgreSQL) behind one
 * Kysely instance, and runs transactions that retry where the engine asks for it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  Kysely,
  PostgresDialect,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  sql,
  type Transaction,
} from 'kysely';
import type pg from 'pg';
import { type DatabaseConfig, DEFAULT_INGEST_CONCURRENCY, DEFAULT_READ_MEMO_ENTRIES } from '../config.ts';
import { type DialectName, isRetryableTransactionError } from './dialect.ts';
import { openPostgresPool } from './postgres-pool.ts';
import { type ChangeMarker, ReadMemo, sharedReads } from './read-memo.ts';
import type { Database } from './schema.ts';
import { connectSqlite, DEFAULT_BUSY_TIMEOUT_MS } from './sqlite.ts';

export interface StorageOptions {
  readMemoEntries?: number;
  /**
   * Bound, in ms, on the database work of one request: each PostgreSQL statement
   * (statement_timeout) and wait for a pooled connection, each SQLite wait for the write lock
   * (busy_timeout), and a transaction's retries together. Work that reaches it fails, is rolled
   * back and is answered 503. Absent (the CLI): statements run as long as they take.
   */
  timeoutMs?: number;
}

export interface Storage {
  db: Kysely<Database>;
  dialect: DialectName;
  /**
   * Runs `work` in a transaction, again (up to 5 times) after a deadlock or serialization
   * failure, but never past `timeoutMs` from the first attempt.
   */
  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /** The bound of StorageOptions, if any: ingestion's writers give each batch a deadline from it. */
  timeoutMs: number | undefined;
  /**
   * Runs `work` on one connection without the bound on statements: migrations may take longer
   * than any request should.
   */
  withoutTimeout<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T>;
  /** Tells `listener` of each PostgreSQL connection that failed (dropped and replaced by then); returns its removal. */
  onConnectionLost(listener: (error: Error) => void): () => void;
  /** Closes what was registered with onClose, then the database. */
  close(): Promise<void>;
  /** Runs `close` when the storage closes, before the database connection does. */
  onClose(close: () => Promise<void>): void;
  /** Rollup reads reused until anything is committed (see read-memo.ts). */
  reads: ReadMemo;
  /** SQLite only: the connection itself (its `name` is the file that ingestion's writer opens). */
  sqlite?: SQLite.Database;
  /** Ingestion batches written at once on PostgreSQL (see PostgresBatchWriter); 1 on SQLite, which has one writer. */
  ingestConcurrency: number;
  /** PostgreSQL only: the connection pool, whose counts /metrics reports. */
  pool?: Pick<pg.Pool, 'totalCount' | 'idleCount' | 'waitingCount'>;
}

export function openStorage(config: DatabaseConfig, options: StorageOptions = {}): Storage {
  const { timeoutMs } = options;
  const lostListeners = new Set<(error: Error) => void>();
  const onLost = (error: Error) => {
    for (const listener of lostListeners) listener(error);
  };
  const { db, pool, sqlite, changeMarker } =
    config.kind === 'sqlite'
      ? { ...openSqlite(config.path, timeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS), pool: undefined }
      : { ...openPostgres(config, timeoutMs, onLost), sqlite: undefined };
  const closers: Array<() => Promise<void>> = [];
  const storage: Storage = {
    db,
    dialect: config.kind,
    transaction: (work) => withRetry(() => db.transaction().execute(work), deadlineAfter(timeoutMs)),
    timeoutMs,
    withoutTimeout: (work) => (pool && timeoutMs ? withoutStatementTimeout(db, work) : work(db)),
    onConnectionLost: (listener) => {
      lostListeners.add(listener);
      return () => lostListeners.delete(listener);
    },
    close: async () => {
      for (const close of closers.splice(0).reverse()) await close();
      await db.destroy();
    },
    onClose: (close) => closers.push(close),
    reads: new ReadMemo(changeMarker, options.readMemoEntries ?? DEFAULT_READ_MEMO_ENTRIES),
    ...(pool ? { pool } : {}),
    ingestConcurrency: config.kind === 'postgres' ? (config.ingestConcurrency ?? DEFAULT_INGEST_CONCURRENCY) : 1,
    ...(sqlite ? { sqlite } : {}),
  };
  return storage;
}

/** The time (epoch ms) after which work bounded by `timeoutMs` from now is given up; Infinity without a bound. */
export function deadlineAfter(timeoutMs: number | undefined): number {
  return timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
}

/**
 * PostgreSQL: `work` on a connection of its own whose statement_timeout is lifted, and put back
 * to the pool's setting (RESET returns to the start-up value) before the connection is.
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

function openSqlite(
  file: string,
  busyTimeoutMs: number,
): { db: Kysely<Database>; sqlite: SQLite.Database; changeMarker: ChangeMarker } {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = connectSqlite(file, busyTimeoutMs);
  // data_version moves when another connection (the ingestion writer, a replica, the CLI)
  // commits; total_changes() when this one writes.
  const marker = sqlite.prepare("select (select data_version from pragma_data_version) || '/' || total_changes()");
  marker.pluck();
  return {
    db: new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: reusingStatements(sqlite) }) }),
    sqlite,
    changeMarker: () => marker.get() as string,
  };
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

/** better-sqlite3 as Kysely sees it, but preparing each distinct statement only once. */
function reusingStatements(sqlite: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      const cached = statements.get(text);
      // A statement still iterating (a streamed query) cannot run again until it is done.
      if (cached && !cached.busy) return cached;
      const statement = sqlite.prepare(text);
      if (statements.size >= MAX_STATEMENTS) statements.clear();
      statements.set(text, statement);
      return statement;
    },
  };
}

function openPostgres(
  config: Extract<DatabaseConfig, { kind: 'postgres' }>,
  timeoutMs: number | undefined,
  onLost: (error: Error) => void,
) {
  const { pool, driverPool } = openPostgresPool({
    url: config.url,
    poolSize: config.poolSize,
    schema: config.schema,
    timeoutMs,
    onLost,
  });
  // Two snapshots alike (xmin, xmax and the transactions in progress) see the same committed
  // data; any commit since, anywhere in the cluster, makes them differ. Concurrent requests
  // share one marker query instead of paying a round trip each.
  const changeMarker = sharedReads(async () => {
    const { rows } = await pool.query<{ marker: string }>({
      name: 'change_marker',
      text: 'select pg_current_snapshot()::text as marker',
    });
    return rows[0]!.marker;
  });
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: driverPool }) }), pool, changeMarker };
}

/**
 * Runs `run` again (up to `attempts` times in all) after a deadlock, a serialization failure or
 * a busy SQLite database, as long as `deadline` (epoch ms) has not passed: an attempt that used
 * up the bound waiting for a lock is not followed by another that would wait as long again.
 */
export async function withRetry<T>(
  run: () => Promise<T>,
  deadline = Number.POSITIVE_INFINITY,
  attempts = 5,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= attempts || !isRetryableTransactionError(error)) throw error;
      const pause = 5 * attempt + Math.random() * 10 * attempt;
      if (Date.now() + pause >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
