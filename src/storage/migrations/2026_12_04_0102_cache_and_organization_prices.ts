import type { Kysely } from 'kysely';
import type { EngineName } from '../storage.ts';

// Frozen: this migration never imports application code. A price may set its own rates for
// neurons read from and written to the provider's prompt cache (integer pico-CHF per 1M, like
// the others); null means the neuron price applies. organization_model_prices holds an
// organization's own prices (negotiated rates), dated like the platform sheet; for that
// organization's events they take precedence. Its primary key starts with organization_id, as
// every per-organization table's does.

const CACHE_PRICES = ['cached_neurons_pico_per_million', 'cache_write_neurons_pico_per_million'];

export async function up(db: Kysely<any>, _engine: EngineName): Promise<void> {
  for (const column of CACHE_PRICES) {
    await db.schema.alterTable('model_prices').addColumn(column, 'bigint').execute();
  }
  await db.schema
    .createTable('organization_model_prices')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('effective_from', 'bigint', (c) => c.notNull())
    .addColumn('neurons_pico_per_million', 'bigint', (c) => c.notNull())
    .addColumn('synapses_pico_per_million', 'bigint', (c) => c.notNull())
    .addColumn('cached_neurons_pico_per_million', 'bigint')
    .addColumn('cache_write_neurons_pico_per_million', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('organization_model_prices_pk', ['organization_id', 'model', 'effective_from'])
    .execute();
}

export async function down(db: Kysely<any>, _engine: EngineName): Promise<void> {
  await db.schema.dropTable('organization_model_prices').execute();
  for (const column of CACHE_PRICES) {
    await db.schema.alterTable('model_prices').dropColumn(column).execute();
  }
}
