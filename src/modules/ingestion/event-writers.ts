/**
 * How a batch's new events and rollup increments reach each engine. Measured with
 * `npm run bench`: on SQLite, one cached prepared statement run per row, inside the caller's
 * transaction, beats one giant multi-row statement (which must be built, compiled and prepared
 * anew for every batch) and multi-row statements of fixed sizes prepared once; on PostgreSQL,
 * one statement for the whole batch, its rows passed as one array per column (`unnest`), costs
 * one round trip and a plan of fixed size (see postgres-batch-write.ts). This module does not
 * load Kysely, so that the SQLite writer thread starts without it.
 */
import type SQLite from 'better-sqlite3';
import type { Counters, RollupIncrements, UsageEvent } from './rollups.ts';

/** SQLite's writer: runs inside the transaction that holds the connection (see sqliteEventWriter). */
export interface SqliteEventWriter {
  /** Inserts the events whose (organization, id) is new and returns the indexes of exactly those. */
  insertNewEvents(events: readonly UsageEvent[], receivedAt: number): number[];
  applyRollupIncrements(increments: RollupIncrements): void;
}

const ROLLUP_KEYS = {
  rollup_org_month: ['organization_id', 'month'],
  rollup_org_model_month: ['organization_id', 'month', 'model'],
  rollup_key_model_month: ['organization_id', 'month', 'api_key_id', 'model'],
  rollup_key_day: ['organization_id', 'day', 'api_key_id'],
} as const;
export type RollupTable = keyof typeof ROLLUP_KEYS;

const COUNTER_COLUMNS = ['requests', 'neurons', 'synapses', 'cost_nano'] as const;

/**
 * The SQL around a row source that adds its rows to a rollup: `insert into <table> (…)` before
 * it, and after it `on conflict (<key>) do update set` each counter to the stored one plus the
 * new one. Both engines' writers use it.
 */
export function rollupUpsert(table: RollupTable): { head: string; tail: string } {
  const keys = ROLLUP_KEYS[table].join(', ');
  const add = (c: string) => `${c} = ${table}.${c} + excluded.${c}`;
  return {
    head: `insert into ${table} (${keys}, ${COUNTER_COLUMNS.join(', ')})`,
    tail: `on conflict (${keys}) do update set ${COUNTER_COLUMNS.map(add).join(', ')}`,
  };
}

const counterValues = (c: Counters) => [c.requests, c.neurons, c.synapses, c.costNano];

/**
 * SQLite: statements prepared once per connection and run row by row, inside the caller's
 * transaction (see sqlite-group-write.ts).
 */
export function sqliteEventWriter(db: SQLite.Database): SqliteEventWriter {
  const insert = db.prepare(
    `insert into usage_events (organization_id, id, api_key_id, model, neurons, synapses, cost_nano, cost_source, occurred_at, received_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (organization_id, id) do nothing`,
  );
  const upsert = (table: RollupTable) => {
    const { head, tail } = rollupUpsert(table);
    return db.prepare(`${head} values (${'?, '.repeat(ROLLUP_KEYS[table].length)}?, ?, ?, ?) ${tail}`);
  };
  const orgModelMonth = upsert('rollup_org_model_month');
  const keyModelMonth = upsert('rollup_key_model_month');
  const keyDay = upsert('rollup_key_day');
  const orgMonth = upsert('rollup_org_month');
  return {
    insertNewEvents(events, receivedAt) {
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
        );
        if (changes > 0) inserted.push(i);
      }
      return inserted;
    },
    applyRollupIncrements(increments) {
      for (const r of increments.orgModelMonth)
        orgModelMonth.run(r.organizationId, r.month, r.model, ...counterValues(r));
      for (const r of increments.keyModelMonth) {
        keyModelMonth.run(r.organizationId, r.month, r.apiKeyId, r.model, ...counterValues(r));
      }
      for (const r of increments.keyDay) keyDay.run(r.organizationId, r.day, r.apiKeyId, ...counterValues(r));
      // Last, as on PostgreSQL; its CHECK constraints fail the transaction past a monthly bound.
      for (const r of increments.orgMonth) orgMonth.run(r.organizationId, r.month, ...counterValues(r));
    },
  };
}
