/**
 * Writes validated batches: new events, their rollup increments and the reservations they
 * settle, in one transaction that is committed before the batch is acknowledged. PostgreSQL
 * writes each batch in a single statement (see writeBatchInOneStatement).
 *
 * On SQLite, batches that arrive while another is being written wait and are then written
 * together, in one transaction (group commit). SQLite has one writer anyway, so nothing runs
 * later than it would have; the waiting batches share one commit, whose fsync (synchronous =
 * FULL) took about half of the ingestion time when each batch paid its own. Each batch is still
 * acknowledged only after its events are on disk. Should a group's transaction fail, its
 * batches are written again one by one, so that one batch cannot fail another.
 */
import type SQLite from 'better-sqlite3';
import type { Transaction } from 'kysely';
import { type Storage, withRetry } from '../../storage/database.ts';
import type { Database } from '../../storage/schema.ts';
import { settleReservations } from '../limits/reservations.repository.ts';
import { type SqliteEventWriter, sqliteEventWriter, writeBatchInOneStatement } from './event-writers.ts';
import { rollupIncrements, type UsageEvent } from './rollups.ts';

export interface Batch {
  /** Validated events, each (organization, id) once. */
  events: UsageEvent[];
  /** (organization, reservation) pairs the batch settles. */
  reservations: Array<[string, string]>;
  receivedAt: number;
}

/** Resolves with the events that were new (the others were already stored). */
export function writeBatch(storage: Storage, batch: Batch): Promise<UsageEvent[]> {
  if (storage.sqlite) return groupCommitFor(storage, storage.sqlite).submit(batch);
  return withRetry(() => writeBatchInOneStatement(storage.db, batch.events, batch.reservations, batch.receivedAt));
}

/** SQLite: writes the batches in the caller's transaction; rollups once for all of them. */
async function writeGroup(writer: SqliteEventWriter, trx: Transaction<Database>, batches: readonly Batch[]) {
  const inserted = batches.map((batch) => writer.insertNewEvents(batch.events, batch.receivedAt));
  writer.applyRollupIncrements(rollupIncrements(inserted.flat()));
  for (const batch of batches) {
    // The reported cost now counts instead of the estimate the gateway reserved.
    await settleReservations(trx, batch.reservations, batch.receivedAt);
  }
  return inserted;
}

/** Keeps one transaction (and the time the first batch waits) bounded under heavy load. */
const MAX_GROUP = 16;

interface Waiting {
  batch: Batch;
  resolve(events: UsageEvent[]): void;
  reject(error: unknown): void;
}

class GroupCommit {
  private waiting: Waiting[] = [];
  private writing = false;

  constructor(
    private readonly storage: Storage,
    private readonly writer: SqliteEventWriter,
  ) {}

  submit(batch: Batch): Promise<UsageEvent[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.waiting.length > 0) {
        // A SQLite transaction runs without yielding to I/O, so batches that arrived meanwhile
        // are still unread; one turn of the event loop lets them join this group.
        await new Promise((resolve) => setImmediate(resolve));
        await this.write(this.waiting.splice(0, MAX_GROUP));
      }
    } finally {
      this.writing = false;
    }
  }

  private async write(group: Waiting[]): Promise<void> {
    try {
      const inserted = await this.storage.transaction((trx) =>
        writeGroup(
          this.writer,
          trx,
          group.map((w) => w.batch),
        ),
      );
      for (const [i, w] of group.entries()) w.resolve(inserted[i]!);
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
    // Prepared on first use, once the migrations have created the tables.
    group = new GroupCommit(storage, sqliteEventWriter(sqlite));
    groupCommits.set(storage, group);
  }
  return group;
}
