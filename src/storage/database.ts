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
  type Transaction,
} from 'kysely';
import type pg from 'pg';
import { type DatabaseConfig, DEFAULT_INGEST_CONCURRENCY, DEFAULT_READ_MEMO_ENTRIES } from '../config.ts';
import { type DialectName, isRetryableTransactionError } from './dialect.ts';
import { openPostgresPool } from './postgres-pool.ts';
import { type ChangeMarker, ReadMemo, sharedReads } from './read-memo.ts';
import type { Database } from './schema.ts';
import { connectSqlite } from './sqlite.ts';

export interface Storage {
  db: Kysely<Database>;
  dialect: DialectName;
  /** Runs `work` in a transaction, again (up to 5 times) after a deadlock or serialization failure. */
  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
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

export function openStorage(config: DatabaseConfig, options: { readMemoEntries?: number } = {}): Storage {
  const lostListeners = new Set<(error: Error) => void>();
  const onLost = (error: Error) => {
    for (const listener of lostListeners) listener(error);
  };
  const { db, pool, sqlite, changeMarker } =
    config.kind === 'sqlite'
      ? { ...openSqlite(config.path), pool: undefined }
      : { ...openPostgres(config, onLost), sqlite: undefined };
  const closers: Array<() => Promise<void>> = [];
  const storage: Storage = {
    db,
    dialect: config.kind,
    transaction: (work) => withRetry(() => db.transaction().execute(work)),
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

function openSqlite(file: string): { db: Kysely<Database>; sqlite: SQLite.Database; changeMarker: ChangeMarker } {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = connectSqlite(file);
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

function openPostgres(config: Extract<DatabaseConfig, { kind: 'postgres' }>, onLost: (error: Error) => void) {
  const { pool, driverPool } = openPostgresPool({
    url: config.url,
    poolSize: config.poolSize,
    schema: config.schema,
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

/** Runs `run` again (up to `attempts` times in all) after a deadlock or serialization failure. */
export async function withRetry<T>(run: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= attempts || !isRetryableTransactionError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10 * attempt));
    }
  }
}
