/**
 * Writes validated batches: new events, their rollup increments and the reservations they
 * settle, in one transaction that is committed before the batch is acknowledged. PostgreSQL
 * writes each batch in a single statement (see writeBatchInOneStatement and
 * PostgresBatchWriter).
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
import { deadlineAfter, type Storage, withRetry } from '../../storage/database.ts';
import { databaseUnavailable, timeLimitReached } from '../../storage/dialect.ts';
import type { Db } from '../../storage/schema.ts';
import { writeBatchInOneStatement } from './postgres-batch-write.ts';
import type { UsageEvent } from './rollups.ts';
import { type Batch, sqliteGroupWrite } from './sqlite-group-write.ts';
import { SqliteWriterThread } from './sqlite-writer.ts';

/**
 * Resolves with the events that were new (the others were already stored). With a bound on the
 * storage, the batch must be written within it, waiting for its turn included, or it fails
 * unwritten as SERVICE_UNAVAILABLE.
 */
export function writeBatch(storage: Storage, input: Batch): Promise<UsageEvent[]> {
  const batch = storage.timeoutMs === undefined ? input : { ...input, deadline: deadlineAfter(storage.timeoutMs) };
  if (storage.sqlite) return groupCommitFor(storage, storage.sqlite).submit(batch);
  let writer = postgresWriters.get(storage);
  if (!writer) {
    writer = new PostgresBatchWriter(storage.db, storage.ingestConcurrency);
    postgresWriters.set(storage, writer);
  }
  return writer.write(batch);
}

const postgresWriters = new WeakMap<Storage, PostgresBatchWriter>();

const eventKey = (event: UsageEvent) => `${event.organizationId}\u0000${event.id}`;

/**
 * PostgreSQL: each batch in one statement, several batches at once. A gateway that retries a
 * batch it believes lost often sends events that a statement of this process is still writing.
 * Inserted again, each would make the new statement wait for the first one's commit while it
 * holds its own new rows, and every statement that needs those waits in turn (with four clients
 * and 1 % retried events, about a quarter of the statements' time). So an event that is already
 * being written is left out of the new statement. Once the first statement commits, the event is stored and
 * the new batch counts it as a duplicate, as the database would have; should that statement
 * fail, the new batch writes the event itself, in a statement of its own. (Then that batch is
 * no longer written in one transaction; were the second statement to fail too, the batch is
 * reported failed with part of it stored, and its retry stores the rest, each event once.)
 *
 * At most `concurrency` statements run at once; further batches wait their turn in the process,
 * holding nothing in the database. On two cores, two statements at a time wrote as much as four
 * or more, with fewer waits for one another's rows and more CPU left for reads
 * (DATABASE_INGEST_CONCURRENCY; a database with more cores may want more).
 */
export class PostgresBatchWriter {
  /** Events being written or waiting their turn, by key: resolves with whether their statement committed. */
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private running = 0;
  /** Batches waiting for a statement slot; each is handed the slot of one that finishes. */
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly db: Db,
    private readonly concurrency: number,
  ) {}

  /** Resolves with the events that were new (the others were already stored). */
  async write(batch: Batch): Promise<UsageEvent[]> {
    const own: UsageEvent[] = [];
    const carried: Array<{ event: UsageEvent; committed: Promise<boolean> }> = [];
    for (const event of batch.events) {
      const committed = this.inFlight.get(eventKey(event));
      if (committed) carried.push({ event, committed });
      else own.push(event);
    }
    const inserted = await this.writeOwn({ ...batch, events: own });
    const leftOver: UsageEvent[] = [];
    for (const { event, committed } of carried) if (!(await committed)) leftOver.push(event);
    if (leftOver.length === 0) return inserted;
    return [...inserted, ...(await this.write({ ...batch, events: leftOver, reservations: [] }))];
  }

  private async writeOwn(batch: Batch): Promise<UsageEvent[]> {
    let settle: (committed: boolean) => void = () => {};
    const committed = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    const keys = batch.events.map(eventKey);
    for (const key of keys) this.inFlight.set(key, committed);
    const forget = () => {
      for (const key of keys) if (this.inFlight.get(key) === committed) this.inFlight.delete(key);
    };
    try {
      await this.acquire(batch.deadline);
    } catch (error) {
      settle(false);
      forget();
      throw error;
    }
    try {
      const inserted = await withRetry(
        () => writeBatchInOneStatement(this.db, batch.events, batch.reservations, batch.receivedAt),
        batch.deadline,
      );
      settle(true);
      return inserted;
    } catch (error) {
      settle(false);
      throw error;
    } finally {
      this.release();
      forget();
    }
  }

  /** A statement slot; a batch still waiting for one at its deadline fails without being written. */
  private async acquire(deadline = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const take = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer =
        deadline === Number.POSITIVE_INFINITY
          ? undefined
          : setTimeout(() => {
              const index = this.waiting.indexOf(take);
              if (index < 0) return; // handed a slot meanwhile
              this.waiting.splice(index, 1);
              reject(timeLimitReached());
            }, deadline - Date.now());
      this.waiting.push(take);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
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
      while (this.waiting.length > 0) {
        // A batch whose deadline passed while it waited for its turn is failed unwritten.
        const now = Date.now();
        const group = this.waiting.splice(0, MAX_GROUP).filter((w) => {
          if ((w.batch.deadline ?? Number.POSITIVE_INFINITY) > now) return true;
          w.reject(timeLimitReached());
          return false;
        });
        if (group.length > 0) await this.write(group);
      }
    } finally {
      this.writing = false;
    }
  }

  private async write(group: Waiting[]): Promise<void> {
    try {
      const inserted = await this.writeGroup(group.map((w) => w.batch));
      for (const [i, w] of group.entries()) w.resolve(inserted[i]!.map((index) => w.batch.events[index]!));
    } catch (error) {
      // Written one by one, a group that found the database locked or gone would wait or fail
      // once per batch; that is no batch's fault, so all of them fail at once.
      if (group.length === 1 || databaseUnavailable(error)) for (const w of group) w.reject(error);
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
  const thread = writerThreadFor(storage, sqlite);
  // Retried as storage.transaction retries, within the earliest deadline of the group.
  return (batches) =>
    withRetry(
      () => thread.write(batches),
      Math.min(...batches.map((batch) => batch.deadline ?? Number.POSITIVE_INFINITY)),
    );
}

const writerThreads = new WeakMap<Storage, SqliteWriterThread>();

function writerThreadFor(storage: Storage, sqlite: SQLite.Database): SqliteWriterThread {
  let thread = writerThreads.get(storage);
  if (!thread) {
    const created = new SqliteWriterThread(sqlite.name);
    storage.onClose(() => created.close());
    writerThreads.set(storage, created);
    thread = created;
  }
  return thread;
}

/**
 * Starts what ingestion writes with before the first batch comes: on a SQLite file, the writer
 * thread, which would otherwise keep the first batch after every start waiting for it. Rejects
 * if the thread cannot open the database.
 */
export async function startIngestion(storage: Storage): Promise<void> {
  if (storage.sqlite && !storage.sqlite.memory) await writerThreadFor(storage, storage.sqlite).open();
}
