import { type Kysely, sql } from 'kysely';
import type { DialectName } from '../dialect.ts';

// Frozen: this migration never imports application code. Usage per organization and UTC month:
// every row of the other rollups is part of one such total. Its CHECK constraints bound what one
// organization may use in one month: 10^18 nano-CHF (1,000,000,000 CHF), 2^53 - 1 neurons and as
// many synapses. Every sum of one month then fits 64 bits, and a JSON number exactly. Ingestion
// adds to this row in the same statement or transaction as to the others, so a batch that would
// take a total past its bound fails as a whole and writes nothing.

export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  let table = db.schema
    .createTable('rollup_org_month')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('month', 'integer', (c) => c.notNull());
  for (const counter of ['requests', 'neurons', 'synapses', 'cost_nano']) {
    table = table.addColumn(counter, 'bigint', (c) => c.notNull());
  }
  await table
    .addPrimaryKeyConstraint('rollup_org_month_pk', ['organization_id', 'month'])
    .addCheckConstraint('rollup_org_month_cost_max', sql`cost_nano <= 1000000000000000000`)
    .addCheckConstraint('rollup_org_month_neurons_max', sql`neurons <= 9007199254740991`)
    .addCheckConstraint('rollup_org_month_synapses_max', sql`synapses <= 9007199254740991`)
    .execute();
  await sql`
    insert into rollup_org_month (organization_id, month, requests, neurons, synapses, cost_nano)
    select organization_id, month, sum(requests), sum(neurons), sum(synapses), sum(cost_nano)
    from rollup_org_model_month group by organization_id, month`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rollup_org_month').execute();
}
