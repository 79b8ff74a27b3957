import { type Kysely, sql } from 'kysely';
import type { EngineName } from '../storage.ts';

// Frozen: this migration never imports application code. What an event carries beyond its
// totals: the parts of its neurons read from and written to the provider's prompt cache, the
// part of its synapses spent on reasoning (subsets of the totals, 0 when not reported), the
// organization's end user and its tags (canonical JSON, keys sorted; null when none). Every
// rollup sums the three parts. Existing rows get 0, which is what they reported. On PostgreSQL
// usage_events is partitioned by month: columns added to the parent are added to every partition.

const ROLLUP_TABLES = [
  'rollup_key_day',
  'rollup_key_model_month',
  'rollup_org_model_month',
  'rollup_org_hour',
  'rollup_org_day',
  'rollup_org_month',
];
const PARTS = ['cached_neurons', 'cache_write_neurons', 'reasoning_synapses'];

export async function up(db: Kysely<any>, _engine: EngineName): Promise<void> {
  for (const table of ['usage_events', ...ROLLUP_TABLES]) {
    for (const part of PARTS) {
      await db.schema
        .alterTable(table)
        .addColumn(part, 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
    }
  }
  await db.schema.alterTable('usage_events').addColumn('end_user', 'text').execute();
  await db.schema.alterTable('usage_events').addColumn('tags', 'text').execute();
}

export async function down(db: Kysely<any>, _engine: EngineName): Promise<void> {
  await db.schema.alterTable('usage_events').dropColumn('tags').execute();
  await db.schema.alterTable('usage_events').dropColumn('end_user').execute();
  for (const table of ['usage_events', ...ROLLUP_TABLES]) {
    for (const part of PARTS) await sql`alter table ${sql.table(table)} drop column ${sql.ref(part)}`.execute(db);
  }
}
