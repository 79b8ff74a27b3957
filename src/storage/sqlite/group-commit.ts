/**
 * SQLite ingestion: batches that arrive while a group is being written wait, and are then
 * written together, in one transaction (group commit). SQLite has one writer anyway, so
 * nothing runs later than it would have; the waiting batches share one commit, whose fsync
 * (synchronous = FULL) and rollup pages cost the most when each batch paid its own. Each batch
 * is still acknowledged only after its events are on disk. Should a group's transaction fail,
 * its batches are written again one by one, so that one batch cannot fail another.
 */
import type { UsageEvent } from '../../usage/event.ts';
import { databaseUnavailable, timeLimitReached } from '../failures.ts';
import type { DeadlinedBatch } from './group-write.ts';

/** Keeps one transaction (and the time the first batch waits) bounded under heavy load. */
const MAX_GROUP = 16;

/** Writes a group in one transaction; resolves, per batch, with the indexes of its new events. */
export type WriteGroup = (batches: readonly DeadlinedBatch[]) => Promise<number[][]>;

interface Waiting {
  batch: DeadlinedBatch;
  resolve(events: UsageEvent[]): void;
  reject(error: unknown): void;
}

export class GroupCommit {
  private waiting: Waiting[] = [];
  private writing = false;

  constructor(private readonly writeGroup: WriteGroup) {}

  /** Resolves with the batch's events that were new, once they are committed. */
  submit(batch: DeadlinedBatch): Promise<UsageEvent[]> {
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
