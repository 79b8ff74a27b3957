/**
 * SQLite: one group of batches written in one immediate transaction on a better-sqlite3
 * connection: the new events, their increments to every rollup, and the reservations they
 * settle. Statements are prepared once per connection and run row by row: that beat one giant
 * multi-row statement (built, compiled and prepared anew for every batch) and multi-row
 * statements of fixed sizes prepared once. It runs in the writer thread (writer-thread.ts), or
 * in the calling thread for an in-memory database, which no other thread can open. This module
 * does not load Kysely, so that the writer thread starts without it.
 */
import type SQLite from 'better-sqlite3';
import { canonicalTags, type UsageEvent } from '../../usage/event.ts';
import { rollupSums } from '../../usage/increments.ts';
import { ROLLUPS } from '../../usage/rollups.ts';
import { rollupUpsertOfOneRow } from '../rollup-sql.ts';
import type { Batch } from '../storage.ts';

/** A batch as the writer thread is sent it: with the time after which it is given up. */
export interface DeadlinedBatch extends Batch {
  /** Epoch ms after which the batch is no longer written but failed as unavailable; none when absent. */
  deadline?: number;
}

/** Writes a group and returns, per batch, the indexes of its events that were new. */
export type GroupWrite = (batches: readonly Batch[]) => number[][];

export function sqliteGroupWrite(db: SQLite.Database): GroupWrite {
  const insert = db.prepare(
    `insert into usage_events (organization_id, id, api_key_id, model, neurons, synapses, cost_nano, cost_source, occurred_at, received_at,
       cached_neurons, cache_write_neurons, reasoning_synapses, end_user, tags)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (organization_id, id) do nothing`,
  );
  const upserts = ROLLUPS.map((rollup) => db.prepare(rollupUpsertOfOneRow(rollup)));
  const settle = db.prepare(
    'update reservations set settled_at = ? where organization_id = ? and id = ? and settled_at is null',
  );
  const insertNew = (events: readonly UsageEvent[], receivedAt: number): number[] => {
    const inserted: number[] = [];
    for (const [i, e] of events.entries()) {
      const { changes } = insert.run(
        e.organizationId,
        e.id,
        e.apiKeyId,
        e.model,
        e.neurons,
        e.synapses,
        e.costNano,
        e.costSource ?? 'reported',
        e.occurredAt,
        receivedAt,
        e.cachedNeurons,
        e.cacheWriteNeurons,
        e.reasoningSynapses,
        e.endUser,
        canonicalTags(e.tags),
      );
      if (changes > 0) inserted.push(i);
    }
    return inserted;
  };
  const write = db.transaction((batches: readonly Batch[]) => {
    const inserted = batches.map((batch) => insertNew(batch.events, batch.receivedAt));
    const increments = rollupSums(batches.flatMap((batch, b) => inserted[b]!.map((i) => batch.events[i]!)));
    // In the order of ROLLUPS, as every writer: the organization months last, whose CHECK
    // constraints fail the transaction past a monthly maximum.
    increments.forEach(({ sums }, r) => {
      const upsert = upserts[r]!;
      for (const sum of sums) upsert.run(sum.parameters());
    });
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
export function busyTimeoutOf(batches: readonly DeadlinedBatch[], fallback: number): number {
  const deadline = Math.min(...batches.map((batch) => batch.deadline ?? Number.POSITIVE_INFINITY));
  return deadline === Number.POSITIVE_INFINITY ? fallback : Math.max(0, Math.floor(deadline - Date.now()));
}
