/** Readiness on SQLite: the tables readable, and the file writable (see ../readiness.ts). */
import fs from 'node:fs/promises';
import path from 'node:path';
import type SQLite from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { type ReadinessProblem, tablesQuery } from '../readiness.ts';
import type { Database } from '../schema.ts';

/**
 * The tables' first pages, then a write that changes nothing (no journal, no growth), refused
 * when the connection is read-only. It does not wait for the write lock: SQLITE_BUSY means
 * another connection (ingestion's writer) is writing, so the file takes writes. Last, the file,
 * its write-ahead log and their folder must be writable by this process: a file made read-only
 * under a running server still takes writes into the log, but can never be checkpointed, nor
 * opened for writing again.
 */
export async function writableProblem(
  db: Kysely<Database>,
  connection: SQLite.Database,
): Promise<ReadinessProblem | undefined> {
  await sql`select ${tablesQuery('limit 1')}`.execute(db);
  await db.connection().execute(async (c) => {
    const { rows } = await sql<{ timeout: number | bigint }>`select timeout from pragma_busy_timeout`.execute(c);
    const busyTimeout = Number(rows[0]?.timeout ?? 0);
    await sql`pragma busy_timeout = 0`.execute(c);
    try {
      await sql`update organizations set name = name where 0 = 1`.execute(c);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY') throw error;
    } finally {
      await sql.raw(`pragma busy_timeout = ${busyTimeout}`).execute(c);
    }
  });
  const file = connection.name;
  if (!file || connection.memory) return undefined;
  for (const target of [file, `${file}-wal`, path.dirname(path.resolve(file))]) {
    await fs.access(target, fs.constants.W_OK).catch((error: { code?: string }) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  return undefined;
}
