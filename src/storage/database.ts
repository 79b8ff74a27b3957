/**
 * Opens the database named by the configuration (embedded SQLite or PostgreSQL) behind one
 * Kysely instance, and runs transactions that retry where the engine asks for it.
 */
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect, type Transaction } from 'kysely';
import pg from 'pg';
import { type DatabaseConfig, DEFAULT_READ_MEMO_ENTRIES } from '../config.ts';
import { type DialectName, isRetryableTransactionError, postgresTypes } from './dialect.ts';
import { type ChangeMarker, ReadMemo, sharedReads } from './read-memo.ts';
import type { Database } from './schema.ts';

export interface Storage {
  db: Kysely<Database>;
  dialect: DialectName;
  /** Runs `work` in a transaction, again (up to 5 times) after a deadlock or serialization failure. */
  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Rollup reads reused until anything is committed (see read-memo.ts). */
  reads: ReadMemo;
  /** SQLite only: the connection itself, for statements prepared once and run per row (ingestion). */
  sqlite?: SQLite.Database;
  /** PostgreSQL only: the connection pool, whose counts /metrics reports. */
  pool?: Pick<pg.Pool, 'totalCount' | 'idleCount' | 'waitingCount'>;
}

export function openStorage(config: DatabaseConfig, options: { readMemoEntries?: number } = {}): Storage {
  const { db, pool, sqlite, changeMarker } =
    config.kind === 'sqlite'
      ? { ...openSqlite(config.path), pool: undefined }
      : { ...openPostgres(config), sqlite: undefined };
  const storage: Storage = {
    db,
    dialect: config.kind,
    transaction: (work) => withRetry(() => db.transaction().execute(work)),
    close: () => db.destroy(),
    reads: new ReadMemo(changeMarker, options.readMemoEntries ?? DEFAULT_READ_MEMO_ENTRIES),
    ...(pool ? { pool } : {}),
    ...(sqlite ? { sqlite } : {}),
  };
  return storage;
}

export const WAL_CHECKPOINT_PAGES = 10_000;

function openSqlite(file: string): { db: Kysely<Database>; sqlite: SQLite.Database; changeMarker: ChangeMarker } {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.defaultSafeIntegers(true);
  sqlite.pragma('journal_mode = WAL');
  // FULL: an acknowledged batch is on disk even if the machine loses power right after.
  sqlite.pragma('synchronous = FULL');
  // Checkpoint every ~40 MiB of WAL instead of ~4 MiB: a batch dirties hundreds of rollup pages,
  // and the same hot pages are then copied into the database once per checkpoint, not per batch.
  sqlite.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // data_version moves when another connection (a replica, the CLI) commits; total_changes()
  // when this one writes. All of this process's statements share this one connection.
  const marker = sqlite.prepare("select (select data_version from pragma_data_version) || '/' || total_changes()");
  marker.pluck();
  return {
    db: new Kysely<Database>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }) }),
    sqlite,
    changeMarker: () => marker.get() as string,
  };
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

function openPostgres(config: Extract<DatabaseConfig, { kind: 'postgres' }>) {
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    types: postgresTypes,
    ...(config.schema ? { options: `-c search_path=${config.schema}` } : {}),
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
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), pool, changeMarker };
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
