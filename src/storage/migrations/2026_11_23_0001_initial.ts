import type { Kysely } from 'kysely';
import type { EngineName } from '../storage.ts';

// Frozen: this migration never imports application code. Integers are `bigint` on both
// engines (SQLite stores every INTEGER in 64 bits); times are epoch milliseconds.

const COUNTERS = ['requests', 'neurons', 'synapses', 'cost_nano'] as const;

export async function up(db: Kysely<any>, _engine: EngineName): Promise<void> {
  await db.schema
    .createTable('organizations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('monthly_limit_nano', 'bigint')
    .addColumn('api_keys_limit_nano', 'bigint')
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_prefix', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('monthly_limit_nano', 'bigint')
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('expires_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addPrimaryKeyConstraint('api_keys_pk', ['organization_id', 'id'])
    .execute();
  await db.schema.createIndex('api_keys_key_hash_uq').on('api_keys').column('key_hash').unique().execute();
  await db.schema.createIndex('api_keys_id_uq').on('api_keys').column('id').unique().execute();

  await db.schema
    .createTable('admin_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_prefix', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .execute();

  await db.schema
    .createTable('usage_events')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('api_key_id', 'text')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('neurons', 'bigint', (c) => c.notNull())
    .addColumn('synapses', 'bigint', (c) => c.notNull())
    .addColumn('cost_nano', 'bigint', (c) => c.notNull())
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_events_pk', ['organization_id', 'id'])
    .execute();
  await db.schema
    .createIndex('usage_events_org_time_idx')
    .on('usage_events')
    .columns(['organization_id', 'occurred_at'])
    .execute();

  const rollups: Array<[string, string[]]> = [
    ['rollup_org_model_month', ['organization_id', 'month', 'model']],
    ['rollup_key_model_month', ['organization_id', 'month', 'api_key_id', 'model']],
    ['rollup_key_day', ['organization_id', 'day', 'api_key_id']],
  ];
  for (const [table, key] of rollups) {
    let builder = db.schema.createTable(table);
    for (const column of key) {
      builder = builder.addColumn(column, column === 'month' || column === 'day' ? 'integer' : 'text', (c) =>
        c.notNull(),
      );
    }
    for (const counter of COUNTERS) {
      builder = builder.addColumn(counter, 'bigint', (c) => c.notNull());
    }
    await builder.addPrimaryKeyConstraint(`${table}_pk`, key as never[]).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'rollup_key_day',
    'rollup_key_model_month',
    'rollup_org_model_month',
    'usage_events',
    'admin_keys',
    'api_keys',
    'organizations',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
