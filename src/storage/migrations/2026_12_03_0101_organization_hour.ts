import { type Kysely, sql } from 'kysely';
import type { EngineName } from '../storage.ts';

// Frozen: this migration never imports application code. Usage per organization and UTC hour,
// the hour keyed as whole hours since 1970-01-01T00:00Z (an integer, like the other rollups'
// months and days; yyyymmddhh would not fit 32 bits). Filled from the raw events already stored;
// ingestion adds to it from now on, with the other rollups.

export async function up(db: Kysely<any>, _engine: EngineName): Promise<void> {
  let table = db.schema
    .createTable('rollup_org_hour')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('hour', 'integer', (c) => c.notNull());
  for (const counter of ['requests', 'neurons', 'synapses', 'cost_nano']) {
    table = table.addColumn(counter, 'bigint', (c) => c.notNull());
  }
  await table.addPrimaryKeyConstraint('rollup_org_hour_pk', ['organization_id', 'hour']).execute();
  await sql`
    insert into rollup_org_hour (organization_id, hour, requests, neurons, synapses, cost_nano)
    select organization_id, occurred_at / 3600000, count(*), sum(neurons), sum(synapses), sum(cost_nano)
    from usage_events group by 1, 2`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rollup_org_hour').execute();
}
