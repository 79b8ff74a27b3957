/**
 * SQLite: one group of batches written in one immediate transaction on a better-sqlite3
 * connection: the new events, their rollup increments and the reservations they settle. It runs
 * in the writer thread (sqlite-writer-thread.ts), or in the calling thread for an in-memory
 * database, which no other thread can open.
 */
import type SQLite from 'better-sqlite3';
import { sqliteEventWriter } from './event-writers.ts';
import { rollupIncrements, type UsageEvent } from './rollups.ts';

export interface Batch {
  /** Validated events, each (organization, id) once. */
  events: UsageEvent[];
  /** (organization, reservation) pairs the batch settles. */
  reservations: Array<[string, string]>;
  receivedAt: number;
  /** Epoch ms after which the batch is no longer written but failed as unavailable; none when absent. */
  deadline?: number;
}

/** Writes a group and returns, per batch, the indexes of its events that were new. */
export type GroupWrite = (batches: readonly Batch[]) => number[][];

export function sqliteGroupWrite(db: SQLite.Database): GroupWrite {
  const writer = sqliteEventWriter(db);
  const settle = db.prepare(
    'update reservations set settled_at = ? where organization_id = ? and id = ? and settled_at is null',
  );
  const write = db.transaction((batches: readonly Batch[]) => {
    const inserted = batches.map((batch) => writer.insertNewEvents(batch.events, batch.receivedAt));
    writer.applyRollupIncrements(
      rollupIncrements(batches.flatMap((batch, b) => inserted[b]!.map((i) => batch.events[i]!))),
    );
    for (const batch of batches) {
      // The reported cost now counts instead of the estimate the gateway reserved. Unknown and
      // already settled reservations are left alone, so a retried batch settles nothing twice.
      for (const [organizationId, id] of batch.reservations) settle.run(batch.receivedAt, organizationId, id);
    }
    return inserted;
  });
  return (batches) => write.immediate(batches);
}

/**
 * How long a group may wait for the write lock: until the earliest deadline of its batches, so
 * that none is answered later than its bound; `fallback` when none has a deadline.
 */
export function busyTimeoutOf(batches: readonly Batch[], fallback: number): number {
  const deadline = Math.min(...batches.map((batch) => batch.deadline ?? Number.POSITIVE_INFINITY));
  return deadline === Number.POSITIVE_INFINITY ? fallback : Math.max(0, Math.floor(deadline - Date.now()));
}
