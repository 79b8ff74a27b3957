import { type Kysely, sql } from 'kysely';
import type { EngineName } from '../storage.ts';

// Frozen: this migration never imports application code. Usage per organization and UTC day
// (yyyymmdd), whatever the key: the trends read up to 24 months of days, one row each. Filled
// from the per-key days already stored; ingestion adds to it from now on, with the other rollups.

export async function up(db: Kysely<any>, _engine: EngineName): Promise<void> {
  let table = db.schema
    .createTable('rollup_org_day')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('day', 'integer', (c) => c.notNull());
  for (const counter of ['requests', 'neurons', 'synapses', 'cost_nano']) {
    table = table.addColumn(counter, 'bigint', (c) => c.notNull());
  }
  await table.addPrimaryKeyConstraint('rollup_org_day_pk', ['organization_id', 'day']).execute();
  await sql`
    insert into rollup_org_day (organization_id, day, requests, neurons, synapses, cost_nano)
    select organization_id, day, sum(requests), sum(neurons), sum(synapses), sum(cost_nano)
    from rollup_key_day group by organization_id, day`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rollup_org_day').execute();
}
