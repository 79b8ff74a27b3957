import { sql } from 'kysely';
import type { Db } from '../../storage/schema.ts';
import { toBigInt, toNullableBigInt, toNumber } from '../../storage/values.ts';
import type { CostSource } from '../../usage/event.ts';
import { PriceBook, type PriceEntry, PriceSheet } from './price-sheet.ts';
import type { ModelPriceRow } from './pricing.table.ts';

function toPriceEntry(row: ModelPriceRow): PriceEntry {
  return {
    model: row.model,
    effectiveFrom: toNumber(row.effective_from),
    neuronsPico: toBigInt(row.neurons_pico_per_million),
    synapsesPico: toBigInt(row.synapses_pico_per_million),
    cachedNeuronsPico: toNullableBigInt(row.cached_neurons_pico_per_million),
    cacheWriteNeuronsPico: toNullableBigInt(row.cache_write_neurons_pico_per_million),
  };
}

/** The price columns of an entry, as both price tables store them. */
function priceColumns(entry: PriceEntry) {
  return {
    neurons_pico_per_million: entry.neuronsPico,
    synapses_pico_per_million: entry.synapsesPico,
    cached_neurons_pico_per_million: entry.cachedNeuronsPico ?? null,
    cache_write_neurons_pico_per_million: entry.cacheWriteNeuronsPico ?? null,
  };
}

/** The whole sheet with its history: a few rows per model, small enough to load per batch. */
export async function loadPriceEntries(db: Db): Promise<PriceEntry[]> {
  const rows = await db.selectFrom('model_prices').selectAll().execute();
  return rows.map(toPriceEntry);
}

/** The organizations' own prices with their history, for some organizations or all, by organization. */
export async function loadOrganizationPriceEntries(
  db: Db,
  organizationIds?: readonly string[],
): Promise<Map<string, PriceEntry[]>> {
  const byOrganization = new Map<string, PriceEntry[]>();
  if (organizationIds?.length === 0) return byOrganization;
  let query = db.selectFrom('organization_model_prices').selectAll();
  if (organizationIds) query = query.where('organization_id', 'in', [...new Set(organizationIds)]);
  for (const row of await query.execute()) {
    const list = byOrganization.get(row.organization_id) ?? [];
    list.push(toPriceEntry(row));
    byOrganization.set(row.organization_id, list);
  }
  return byOrganization;
}

/** The platform sheet with the own prices of some organizations, or of all. */
export async function loadPriceBook(db: Db, organizationIds?: readonly string[]): Promise<PriceBook> {
  const [platform, own] = await Promise.all([loadPriceEntries(db), loadOrganizationPriceEntries(db, organizationIds)]);
  return new PriceBook(new PriceSheet(platform), own);
}

/** Adds a price from its time on; the same model and time again replaces that one row. */
export async function upsertPrice(db: Db, entry: PriceEntry, now: number): Promise<void> {
  const prices = priceColumns(entry);
  await db
    .insertInto('model_prices')
    .values({ model: entry.model, effective_from: entry.effectiveFrom, ...prices, created_at: now })
    .onConflict((oc) => oc.columns(['model', 'effective_from']).doUpdateSet({ ...prices, created_at: now }))
    .execute();
}

/** Adds an organization's own price from its time on; the same model and time again replaces that row. */
export async function upsertOrganizationPrice(
  db: Db,
  organizationId: string,
  entry: PriceEntry,
  now: number,
): Promise<void> {
  const prices = priceColumns(entry);
  await db
    .insertInto('organization_model_prices')
    .values({
      organization_id: organizationId,
      model: entry.model,
      effective_from: entry.effectiveFrom,
      ...prices,
      created_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['organization_id', 'model', 'effective_from']).doUpdateSet({ ...prices, created_at: now }),
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
  cachedNeurons: bigint;
  cacheWriteNeurons: bigint;
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
    .select([
      'id',
      'model',
      'neurons',
      'cached_neurons',
      'cache_write_neurons',
      'synapses',
      'cost_nano',
      'cost_source',
      'occurred_at',
    ])
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
    cachedNeurons: toBigInt(row.cached_neurons),
    cacheWriteNeurons: toBigInt(row.cache_write_neurons),
    synapses: toBigInt(row.synapses),
    costNano: toBigInt(row.cost_nano),
    costSource: row.cost_source,
    occurredAt: toNumber(row.occurred_at),
  }));
}
