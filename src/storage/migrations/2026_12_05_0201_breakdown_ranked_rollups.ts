import { type Kysely, sql } from 'kysely';

// Frozen: this migration never imports application code. Smaller rollups for the breakdown:
// usage per model and day (by day and model without reading every key's row), per end user and
// month and per tag and month, each indexed by cost within its month (and tag key) so that the
// top groups of a month come from an index scan, and per tag key and month (every value of a tag
// at once). Filled from the breakdown's rollups, which hold the months whose raw events are gone.

const COUNTERS = [
  'requests',
  'neurons',
  'synapses',
  'cost_nano',
  'cached_neurons',
  'cache_write_neurons',
  'reasoning_synapses',
] as const;

const TABLES = [
  { name: 'rollup_org_model_day', time: 'day', columns: ['model'], from: 'rollup_model_key_day', ranked: false },
  { name: 'rollup_user_month', time: 'month', columns: ['end_user'], from: 'rollup_model_user_month', ranked: true },
  {
    name: 'rollup_tag_month',
    time: 'month',
    columns: ['tag_key', 'tag_value'],
    from: 'rollup_model_tag_month',
    ranked: true,
  },
  { name: 'rollup_tag_key_month', time: 'month', columns: ['tag_key'], from: 'rollup_model_tag_month', ranked: false },
] as const;

export async function up(db: Kysely<any>): Promise<void> {
  for (const { name, time, columns, from, ranked } of TABLES) {
    let table = db.schema
      .createTable(name)
      .addColumn('organization_id', 'text', (c) => c.notNull())
      .addColumn(time, 'integer', (c) => c.notNull());
    for (const column of columns) table = table.addColumn(column, 'text', (c) => c.notNull());
    for (const counter of COUNTERS) table = table.addColumn(counter, 'bigint', (c) => c.notNull());
    const key = ['organization_id', time, ...columns];
    await table.addPrimaryKeyConstraint(`${name}_pk`, key as never[]).execute();
    await sql
      .raw(
        `insert into ${name} (${key.join(', ')}, ${COUNTERS.join(', ')})
         select ${key.join(', ')}, ${COUNTERS.map((c) => `sum(${c})`).join(', ')}
         from ${from} group by ${key.join(', ')}`,
      )
      .execute(db);
    if (ranked) {
      // The groups of one bucket (and tag key) in order of cost, read from the highest down.
      await db.schema
        .createIndex(`${name}_by_cost`)
        .on(name)
        .columns(['organization_id', time, ...columns.slice(0, -1), 'cost_nano'])
        .execute();
    }
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const { name } of [...TABLES].reverse()) await db.schema.dropTable(name).execute();
}
