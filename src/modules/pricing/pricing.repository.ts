import { sql } from 'kysely';
import { type DialectName, toBigInt, toNumber } from '../../storage/dialect.ts';
import type { Db } from '../../storage/schema.ts';
import type { CostSource } from '../ingestion/usage.table.ts';
import type { PriceEntry } from './price-sheet.ts';
import type { ModelPriceRow } from './pricing.table.ts';

function toPriceEntry(row: ModelPriceRow): PriceEntry {
  return {
    model: row.model,
    effectiveFrom: toNumber(row.effective_from),
    neuronsPico: toBigInt(row.neurons_pico_per_million),
    synapsesPico: toBigInt(row.synapses_pico_per_million),
  };
}

/** The whole sheet with its history: a few rows per model, small enough to load per batch. */
export async function loadPriceEntries(db: Db): Promise<PriceEntry[]> {
  const rows = await db.selectFrom('model_prices').selectAll().execute();
  return rows.map(toPriceEntry);
}

/** Adds a price from its time on; the same model and time again replaces that one row. */
export async function upsertPrice(db: Db, entry: PriceEntry, now: number): Promise<void> {
  await db
    .insertInto('model_prices')
    .values({
      model: entry.model,
      effective_from: entry.effectiveFrom,
      neurons_pico_per_million: entry.neuronsPico,
      synapses_pico_per_million: entry.synapsesPico,
      created_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['model', 'effective_from']).doUpdateSet({
        neurons_pico_per_million: entry.neuronsPico,
        synapses_pico_per_million: entry.synapsesPico,
        created_at: now,
      }),
    )
    .execute();
}

export interface UnpricedModel {
  model: string;
  firstSeen: number;
  lastSeen: number;
  events: number;
  organizations: number;
}

/** Models with events stored without a price, across organizations (reads only the partial index). */
export async function unpricedModels(db: Db): Promise<UnpricedModel[]> {
  const rows = await db
    .selectFrom('usage_events')
    .select((eb) => [
      'model',
      eb.fn.min('occurred_at').as('first_seen'),
      eb.fn.max('occurred_at').as('last_seen'),
      eb.fn.countAll().as('events'),
      sql<bigint>`count(distinct organization_id)`.as('organizations'),
    ])
    .where('cost_source', '=', 'unpriced')
    .groupBy('model')
    .orderBy('model')
    .execute();
  return rows.map((row) => ({
    model: row.model,
    firstSeen: toNumber(row.first_seen),
    lastSeen: toNumber(row.last_seen),
    events: toNumber(row.events),
    organizations: toNumber(row.organizations),
  }));
}

/** Every model that has usage, from the monthly rollup (far smaller than the events). */
export async function modelsWithUsage(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('rollup_org_model_month').select('model').distinct().execute();
  return rows.map((row) => row.model);
}

/** The (organization, month) pairs with usage of these models between two months (yyyymm, inclusive). */
export async function organizationMonthsOf(
  db: Db,
  models: readonly string[],
  fromMonth: number,
  toMonth: number,
): Promise<Array<{ organizationId: string; month: number }>> {
  if (models.length === 0) return [];
  const rows = await db
    .selectFrom('rollup_org_model_month')
    .select(['organization_id', 'month'])
    .distinct()
    .where('model', 'in', models)
    .where('month', '>=', fromMonth)
    .where('month', '<=', toMonth)
    .execute();
  return rows.map((row) => ({ organizationId: row.organization_id, month: toNumber(row.month) }));
}

export interface RepricableEvent {
  id: string;
  model: string;
  neurons: bigint;
  synapses: bigint;
  costNano: bigint;
  costSource: CostSource;
  occurredAt: number;
}

/** Events of one organization and models in [from, to) whose cost came from the sheet (or had none). */
export async function repricableEvents(
  db: Db,
  organizationId: string,
  models: readonly string[],
  from: number,
  to: number,
): Promise<RepricableEvent[]> {
  const rows = await db
    .selectFrom('usage_events')
    .select(['id', 'model', 'neurons', 'synapses', 'cost_nano', 'cost_source', 'occurred_at'])
    .where('organization_id', '=', organizationId)
    .where('occurred_at', '>=', BigInt(from))
    .where('occurred_at', '<', BigInt(to))
    .where('model', 'in', models)
    .where('cost_source', 'in', ['sheet', 'unpriced'])
    .execute();
  return rows.map((row) => ({
    id: row.id,
    model: row.model,
    neurons: toBigInt(row.neurons),
    synapses: toBigInt(row.synapses),
    costNano: toBigInt(row.cost_nano),
    costSource: row.cost_source,
    occurredAt: toNumber(row.occurred_at),
  }));
}

/** Rows per statement: a CASE over n ids costs n comparisons per row, so n stays small on SQLite. */
const CASE_CHUNK = 100;
const UNNEST_CHUNK = 5000;

type CostUpdate = { id: string; costNano: bigint; costSource: CostSource };

/** Writes new costs of events of one organization, many events per statement. */
export async function updateEventCosts(
  db: Db,
  dialect: DialectName,
  organizationId: string,
  updates: readonly CostUpdate[],
): Promise<void> {
  const chunk = dialect === 'postgres' ? UNNEST_CHUNK : CASE_CHUNK;
  for (let i = 0; i < updates.length; i += chunk) {
    const part = updates.slice(i, i + chunk);
    if (dialect === 'postgres') await updateByUnnest(db, organizationId, part);
    else await updateByCase(db, organizationId, part);
  }
}

/** PostgreSQL: three array parameters joined to the table, whatever the number of events. */
async function updateByUnnest(db: Db, organizationId: string, part: readonly CostUpdate[]): Promise<void> {
  await sql`
    update usage_events as u
    set cost_nano = v.cost_nano, cost_source = v.cost_source
    from (
      select
        unnest(cast(${part.map((u) => u.id)} as text[])) as id,
        unnest(cast(${part.map((u) => u.costNano.toString())} as bigint[])) as cost_nano,
        unnest(cast(${part.map((u) => u.costSource)} as text[])) as cost_source
    ) as v
    where u.organization_id = ${organizationId} and u.id = v.id`.execute(db);
}

/** SQLite (no array parameters): one CASE per column. */
async function updateByCase(db: Db, organizationId: string, part: readonly CostUpdate[]): Promise<void> {
  const cost = sql<bigint>`case ${sql.join(
    part.map((u) => sql`when id = ${u.id} then ${u.costNano}`),
    sql` `,
  )} end`;
  const source = sql<CostSource>`case ${sql.join(
    part.map((u) => sql`when id = ${u.id} then ${u.costSource}`),
    sql` `,
  )} end`;
  await db
    .updateTable('usage_events')
    .set({ cost_nano: cost, cost_source: source })
    .where('organization_id', '=', organizationId)
    .where(
      'id',
      'in',
      part.map((u) => u.id),
    )
    .execute();
}
