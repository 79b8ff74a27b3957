import { type Kysely, sql } from 'kysely';
import type { EngineName } from '../storage.ts';

// Frozen: this migration never imports application code. SQLite only: the organization's hourly
// and daily rollups become WITHOUT ROWID tables, stored in primary-key order, so that the range
// of an organization that the heatmap (up to 2160 hours) and the trends (up to 731 days) read
// lies in consecutive pages. As rowid tables each row of the range was one more lookup into the
// table, scattered over the pages of every organization's rows, and the time of those reads grew
// with the data. Writes look up one tree instead of an index and a table. PostgreSQL's heap has
// no such order to keep: nothing changes there.

const TABLES = [
  ['rollup_org_hour', 'hour'],
  ['rollup_org_day', 'day'],
] as const;
const COUNTERS = ['requests', 'neurons', 'synapses', 'cost_nano'];
const PARTS = ['cached_neurons', 'cache_write_neurons', 'reasoning_synapses'];

async function rebuild(db: Kysely<any>, table: string, time: string, rowid: boolean): Promise<void> {
  const columns = ['organization_id', time, ...COUNTERS, ...PARTS].map((c) => `"${c}"`).join(', ');
  await sql
    .raw(
      `create table "${table}_new" ("organization_id" text not null, "${time}" integer not null, ${COUNTERS.map(
        (c) => `"${c}" bigint not null`,
      ).join(', ')}, ${PARTS.map((c) => `"${c}" bigint default 0 not null`).join(', ')}, ` +
        `constraint "${table}_pk" primary key ("organization_id", "${time}"))${rowid ? '' : ' without rowid'}`,
    )
    .execute(db);
  await sql.raw(`insert into "${table}_new" (${columns}) select ${columns} from "${table}"`).execute(db);
  await sql.raw(`drop table "${table}"`).execute(db);
  await sql.raw(`alter table "${table}_new" rename to "${table}"`).execute(db);
}

export async function up(db: Kysely<any>, engine: EngineName): Promise<void> {
  if (engine !== 'sqlite') return;
  for (const [table, time] of TABLES) await rebuild(db, table, time, false);
}

export async function down(db: Kysely<any>, engine: EngineName): Promise<void> {
  if (engine !== 'sqlite') return;
  for (const [table, time] of TABLES) await rebuild(db, table, time, true);
}
