import { type Kysely, sql } from 'kysely';
import type { EngineName } from '../storage.ts';

// Frozen: this migration never imports application code. PostgreSQL only: the primary keys of
// the organization's hourly and daily rollups also carry neurons and synapses, so that the
// heatmap (up to 2160 hours) and the trends (up to 731 days) read an organization's range from
// the index alone, in key order, whatever the order of the rows in the heap. Rows are written in
// time order, every organization's hour beside the others', so an organization's range lay in
// up to one heap page per row: at 10M events the heatmap read 1,778 pages instead of 21. SQLite
// keeps these tables in key order already (2026_12_05_0101).

const TABLES = [
  ['rollup_org_hour', 'hour'],
  ['rollup_org_day', 'day'],
] as const;

async function primaryKey(db: Kysely<any>, table: string, time: string, include: string): Promise<void> {
  await sql
    .raw(
      `alter table "${table}" drop constraint "${table}_pk", ` +
        `add constraint "${table}_pk" primary key ("organization_id", "${time}")${include}`,
    )
    .execute(db);
}

export async function up(db: Kysely<any>, engine: EngineName): Promise<void> {
  if (engine !== 'postgres') return;
  for (const [table, time] of TABLES) await primaryKey(db, table, time, ' include ("neurons", "synapses")');
}

export async function down(db: Kysely<any>, engine: EngineName): Promise<void> {
  if (engine !== 'postgres') return;
  for (const [table, time] of TABLES) await primaryKey(db, table, time, '');
}
