/**
 * PostgreSQL ingestion: each batch in one statement (batch-statement.ts), several batches at
 * once, at most DATABASE_INGEST_CONCURRENCY of them.
 */
import { monthKeyOf } from '../../time/calendar.ts';
import type { UsageEvent } from '../../usage/event.ts';
import { timeLimitReached } from '../failures.ts';
import { withRetry } from '../retry.ts';
import type { Db } from '../schema.ts';
import type { Batch } from '../storage.ts';
import { writeBatchInOneStatement } from './batch-statement.ts';
import { createMonthPartitions, isMissingPartition } from './partitions.ts';

/** A batch with the time after which it is no longer written but failed as unavailable. */
export interface DeadlinedBatch extends Batch {
  deadline?: number;
}

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
  async write(batch: DeadlinedBatch): Promise<UsageEvent[]> {
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

  private async writeOwn(batch: DeadlinedBatch): Promise<UsageEvent[]> {
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
      const statement = () => writeBatchInOneStatement(this.db, batch.events, batch.reservations, batch.receivedAt);
      const inserted = await withRetry(
        () =>
          statement().catch(async (error: unknown) => {
            // An event for a month without a partition yet (partitions.ts): create it, write again.
            if (!isMissingPartition(error)) throw error;
            await createMonthPartitions(
              this.db,
              batch.events.map((event) => monthKeyOf(event.occurredAt)),
            );
            return statement();
          }),
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
