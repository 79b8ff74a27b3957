import { type Kysely, sql } from 'kysely';
import type { EngineName } from '../storage.ts';

// Frozen: this migration never imports application code.
//
// model_prices: CHF per 1M units as integer pico-CHF (1e-12 CHF), exact for up to 12 decimals.
// usage_events.cost_source: where an event's cost came from: 'reported' (stated by the
// reporter; never recomputed), 'sheet' (priced from model_prices) or 'unpriced' (no price
// for its model at its time: cost 0 until a price is added and the events are repriced).

const PICO_PER_CHF = 1_000_000_000_000n;
const FROM = Date.parse('2024-01-01T00:00:00Z');

/** Neurons (input) at 8.00 CHF per 1M as Freddy documents; synapses (output) per model, CHF per 1M. */
const DEFAULT_SYNAPSE_PRICES: Array<[string, string]> = [
  ['gpt-4o', '80.00'],
  ['gpt-4o-mini', '4.80'],
  ['gpt-4.1', '64.00'],
  ['gpt-4.1-mini', '12.80'],
  ['gpt-4.1-nano', '3.20'],
  ['o3', '64.00'],
  ['o4-mini', '35.20'],
  ['claude-opus-4', '600.00'],
  ['claude-sonnet-4', '120.00'],
  ['claude-3-5-sonnet', '120.00'],
  ['claude-3-5-haiku', '32.00'],
  ['gemini-2.5-pro', '80.00'],
  ['gemini-2.5-flash', '20.00'],
  ['mistral-large', '48.00'],
  ['mistral-small', '2.40'],
  ['llama-3.3-70b', '5.60'],
];

function pico(chf: string): bigint {
  const [whole = '0', fraction = ''] = chf.split('.');
  return BigInt(whole) * PICO_PER_CHF + BigInt(fraction.padEnd(12, '0'));
}

export async function up(db: Kysely<any>, _engine: EngineName): Promise<void> {
  await db.schema
    .createTable('model_prices')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('effective_from', 'bigint', (c) => c.notNull())
    .addColumn('neurons_pico_per_million', 'bigint', (c) => c.notNull())
    .addColumn('synapses_pico_per_million', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('model_prices_pk', ['model', 'effective_from'])
    .execute();

  await db.schema
    .alterTable('usage_events')
    .addColumn('cost_source', 'text', (c) => c.notNull().defaultTo('reported'))
    .execute();
  // Partial: only unpriced events are indexed, so listing them never scans priced usage.
  await db.schema
    .createIndex('usage_events_unpriced_idx')
    .on('usage_events')
    .columns(['model', 'occurred_at'])
    .where(sql.ref('cost_source'), '=', 'unpriced')
    .execute();

  const now = Date.now();
  await db
    .insertInto('model_prices')
    .values(
      DEFAULT_SYNAPSE_PRICES.map(([model, synapses]) => ({
        model,
        effective_from: FROM,
        neurons_pico_per_million: pico('8.00'),
        synapses_pico_per_million: pico(synapses),
        created_at: now,
      })),
    )
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('usage_events_unpriced_idx').execute();
  await db.schema.alterTable('usage_events').dropColumn('cost_source').execute();
  await db.schema.dropTable('model_prices').execute();
}
