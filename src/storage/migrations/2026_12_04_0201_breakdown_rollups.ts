import { type Kysely, sql } from 'kysely';
import type { EngineName } from '../storage.ts';

// Frozen: this migration never imports application code. The rollups of the breakdown: usage per
// model and API key ('' for the web app), per model and end user ('' for none), and per model and
// tag (an event counts once per tag it carries), each per UTC hour (whole hours since the epoch),
// day (yyyymmdd) and month (yyyymm). Filled from the raw events still stored; ingestion adds to
// them from now on, with the other rollups. On PostgreSQL it also creates tag_entries(tags), one
// row (key, value) per tag, which rebuilding and checking these rollups read; SQLite's connections
// register a function of the same name.

const COUNTERS = [
  'requests',
  'neurons',
  'synapses',
  'cost_nano',
  'cached_neurons',
  'cache_write_neurons',
  'reasoning_synapses',
] as const;

const GRAINS = ['hour', 'day', 'month'] as const;
type GrainName = (typeof GRAINS)[number];

const FAMILIES = [
  { name: 'key', columns: ['api_key_id'], values: [`coalesce(api_key_id, '')`] },
  { name: 'user', columns: ['end_user'], values: [`coalesce(end_user, '')`] },
  { name: 'tag', columns: ['tag_key', 'tag_value'], values: ['tag.key', 'tag.value'] },
] as const;

/** The bucket of `occurred_at` (epoch ms) in SQL of the engine. */
function bucketSql(grain: GrainName, engine: EngineName): string {
  if (grain === 'hour') return 'occurred_at / 3600000';
  const sqliteFormat = grain === 'day' ? '%Y%m%d' : '%Y%m';
  const postgresFormat = grain === 'day' ? 'YYYYMMDD' : 'YYYYMM';
  return engine === 'sqlite'
    ? `cast(strftime('${sqliteFormat}', occurred_at / 1000, 'unixepoch') as integer)`
    : `cast(to_char(to_timestamp(occurred_at / 1000) at time zone 'UTC', '${postgresFormat}') as integer)`;
}

export async function up(db: Kysely<any>, engine: EngineName): Promise<void> {
  if (engine === 'postgres') {
    await sql`
      create function tag_entries(tags text) returns table (key text, value text)
      language sql immutable strict parallel safe
      as $$ select e.key, e.value from jsonb_each_text(cast($1 as jsonb)) as e $$`.execute(db);
  }
  // SQLite's own json_each here: a migration does not rely on the functions connections register.
  const tagSource =
    engine === 'sqlite'
      ? 'usage_events, json_each(usage_events.tags) as tag'
      : 'usage_events, tag_entries(usage_events.tags) as tag';
  for (const family of FAMILIES) {
    for (const grain of GRAINS) {
      const name = `rollup_model_${family.name}_${grain}`;
      let table = db.schema
        .createTable(name)
        .addColumn('organization_id', 'text', (c) => c.notNull())
        .addColumn(grain, 'integer', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull());
      for (const column of family.columns) table = table.addColumn(column, 'text', (c) => c.notNull());
      for (const counter of COUNTERS) table = table.addColumn(counter, 'bigint', (c) => c.notNull());
      const key = ['organization_id', grain, 'model', ...family.columns];
      await table.addPrimaryKeyConstraint(`${name}_pk`, key as never[]).execute();
      const source = family.name === 'tag' ? tagSource : 'usage_events';
      const keys = ['organization_id', bucketSql(grain, engine), 'model', ...family.values];
      await sql
        .raw(
          `insert into ${name} (${key.join(', ')}, ${COUNTERS.join(', ')})
           select ${keys.join(', ')}, count(*), ${COUNTERS.slice(1)
             .map((c) => `sum(${c})`)
             .join(', ')}
           from ${source} group by ${keys.map((_, i) => i + 1).join(', ')}`,
        )
        .execute(db);
    }
  }
}

export async function down(db: Kysely<any>, engine: EngineName): Promise<void> {
  for (const family of FAMILIES) {
    for (const grain of GRAINS) await db.schema.dropTable(`rollup_model_${family.name}_${grain}`).execute();
  }
  if (engine === 'postgres') await sql`drop function tag_entries(text)`.execute(db);
}
