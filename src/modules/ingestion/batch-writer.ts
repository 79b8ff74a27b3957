/**
 * Writes validated batches: new events, their rollup increments and the reservations they
 * settle, in one transaction that is committed before the batch is acknowledged. PostgreSQL
 * writes each batch in a single statement (see writeBatchInOneStatement).
 *
 * SQLite writes in a thread of its own (see sqlite-writer.ts). Batches that arrive while it
 * writes a group wait and are then written together, in one transaction (group commit). SQLite
 * has one writer anyway, so nothing runs later than it would have; the waiting batches share one
 * commit, whose fsync (synchronous = FULL) and rollup pages cost the most when each batch paid
 * its own. Each batch is still acknowledged only after its events are on disk. Should a group's
 * transaction fail, its batches are written again one by one, so that one batch cannot fail
 * another.
 */
import type SQLite from 'better-sqlite3';
import { type Storage, withRetry } from '../../storage/database.ts';
import { writeBatchInOneStatement } from './event-writers.ts';
import type { UsageEvent } from './rollups.ts';
import { type Batch, sqliteGroupWrite } from './sqlite-group-write.ts';
import { SqliteWriterThread } from './sqlite-writer.ts';

/** Resolves with the events that were new (the others were already stored). */
export function writeBatch(storage: Storage, batch: Batch): Promise<UsageEvent[]> {
  if (storage.sqlite) return groupCommitFor(storage, storage.sqlite).submit(batch);
  return withRetry(() => writeBatchInOneStatement(storage.db, batch.events, batch.reservations, batch.receivedAt));
}

/** Keeps one transaction (and the time the first batch waits) bounded under heavy load. */
const MAX_GROUP = 16;

type WriteGroup = (batches: readonly Batch[]) => Promise<number[][]>;

interface Waiting {
  batch: Batch;
  resolve(events: UsageEvent[]): void;
  reject(error: unknown): void;
}

class GroupCommit {
  private waiting: Waiting[] = [];
  private writing = false;

  constructor(private readonly writeGroup: WriteGroup) {}

  submit(batch: Batch): Promise<UsageEvent[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.waiting.length > 0) await this.write(this.waiting.splice(0, MAX_GROUP));
    } finally {
      this.writing = false;
    }
  }

  private async write(group: Waiting[]): Promise<void> {
    try {
      const inserted = await this.writeGroup(group.map((w) => w.batch));
      for (const [i, w] of group.entries()) w.resolve(inserted[i]!.map((index) => w.batch.events[index]!));
    } catch (error) {
      if (group.length === 1) group[0]!.reject(error);
      else for (const w of group) await this.write([w]);
    }
  }
}

const groupCommits = new WeakMap<Storage, GroupCommit>();

function groupCommitFor(storage: Storage, sqlite: SQLite.Database): GroupCommit {
  let group = groupCommits.get(storage);
  if (!group) {
    group = new GroupCommit(sqliteGroupWriter(storage, sqlite));
    groupCommits.set(storage, group);
  }
  return group;
}

/**
 * The writer thread for a database file; an in-memory database exists only on the server's
 * connection, so its groups are written there, in turn with the other transactions.
 */
function sqliteGroupWriter(storage: Storage, sqlite: SQLite.Database): WriteGroup {
  if (sqlite.memory) {
    // Prepared on first use, once the migrations have created the tables.
    const write = sqliteGroupWrite(sqlite);
    return (batches) => storage.transaction(async () => write(batches));
  }
  const thread = new SqliteWriterThread(sqlite.name);
  storage.onClose(() => thread.close());
  // Retried as storage.transaction retries: the server's connection may hold the lock past busy_timeout.
  return (batches) => withRetry(() => thread.write(batches));
}
