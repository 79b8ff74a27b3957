/**
 * How every SQLite connection of this service is set up: the server's own and the ingestion
 * writer's (a thread of its own, see group-commit.ts), both on one file.
 */
import SQLite from 'better-sqlite3';

export const WAL_CHECKPOINT_PAGES = 10_000;

/**
 * Page cache of the ingestion writer's connection, in KiB (SQLite's default is 2000). A group of
 * batches updates index and rollup pages of hundreds of organizations at once; with the default,
 * most of them had been evicted by the time the next group came back to them and were read
 * again. Other connections keep the default: SQLite drops a reader's cache whenever another
 * connection has written, which under ingestion is always.
 */
export const WRITER_CACHE_KIB = 64 * 1024;

/** How long a connection waits for another's write lock when no request bound applies (the CLI). */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

export function connectSqlite(file: string, busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS): SQLite.Database {
  const sqlite = new SQLite(file);
  sqlite.defaultSafeIntegers(true);
  sqlite.pragma('journal_mode = WAL');
  // FULL: an acknowledged batch is on disk even if the machine loses power right after.
  sqlite.pragma('synchronous = FULL');
  // Checkpoint every ~40 MiB of WAL instead of ~4 MiB: a batch dirties hundreds of rollup pages,
  // and the same hot pages are then copied into the database once per checkpoint, not per batch.
  sqlite.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
  // Ingestion writes on a connection of its own (see group-commit.ts); the other waits its turn,
  // at most this long, after which the write fails with SQLITE_BUSY.
  sqlite.pragma(`busy_timeout = ${Math.max(0, Math.round(busyTimeoutMs))}`);
  sqlite.pragma('foreign_keys = ON');
  registerTagEntries(sqlite);
  return sqlite;
}

/**
 * `tag_entries(tags)`: one row (key, value) per tag of an event's tags (a JSON object of
 * strings, or null), the function PostgreSQL defines in SQL. Rollups that expand tags are
 * rebuilt and checked through it on either engine (usage/rollups.ts: tagEntriesSql).
 */
function registerTagEntries(sqlite: SQLite.Database): void {
  sqlite.table('tag_entries', {
    columns: ['key', 'value'],
    parameters: ['tags'],
    *rows(tags: unknown) {
      if (typeof tags !== 'string') return;
      for (const [key, value] of Object.entries(JSON.parse(tags) as Record<string, string>)) yield [key, value];
    },
  });
}
