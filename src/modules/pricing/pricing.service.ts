/**
 * The price sheet: what each model costs from when on, pricing of events that state no cost,
 * and repricing of stored events after the sheet changed.
 */
import { AppError, invalidRequest } from '../../errors.ts';
import { MAX_EVENT_COST_NANO } from '../../money/chf.ts';
import type { Db } from '../../storage/schema.ts';
import type { UsageEvent } from '../../usage/event.ts';
import { canActOn, type Principal } from '../auth/principal.ts';
import { requireOrganization } from '../orgs/orgs.service.ts';
import { eventCostNano } from './cost.ts';
import { type PriceEntry, PriceSheet, type SourcedPriceEntry } from './price-sheet.ts';
import {
  loadPriceBook,
  loadPriceEntries,
  type UnpricedModel,
  unpricedModels,
  upsertOrganizationPrice,
  upsertPrice,
} from './pricing.repository.ts';

export { loadPriceBook } from './pricing.repository.ts';
export { type RepriceResult, reprice } from './reprice.ts';

export async function loadPriceSheet(db: Db): Promise<PriceSheet> {
  return new PriceSheet(await loadPriceEntries(db));
}

/** The sheet in force at `at`: one entry per model or pattern. */
export async function priceSheetAt(db: Db, at: number): Promise<PriceEntry[]> {
  return (await loadPriceSheet(db)).sheetAt(at);
}

/** The sheet an organization gets at `at`: its own prices over the platform's, each saying which. */
export async function organizationPriceSheetAt(
  db: Db,
  principal: Principal,
  organizationId: string,
  at: number,
): Promise<SourcedPriceEntry[]> {
  if (!canActOn(principal, organizationId)) {
    throw new AppError('ORGANIZATION_ACCESS_DENIED', { details: { organization_id: organizationId } });
  }
  await requireOrganization(db, organizationId);
  return (await loadPriceBook(db, [organizationId])).sheetAt(organizationId, at);
}

export async function setPrice(db: Db, entry: PriceEntry, now: number): Promise<PriceEntry> {
  await upsertPrice(db, entry, now);
  return entry;
}

/** Adds an organization's own price; 404 ORGANIZATION_NOT_FOUND when there is no such organization. */
export async function setOrganizationPrice(
  db: Db,
  organizationId: string,
  entry: PriceEntry,
  now: number,
): Promise<PriceEntry> {
  await requireOrganization(db, organizationId);
  await upsertOrganizationPrice(db, organizationId, entry, now);
  return entry;
}

export async function listUnpricedModels(db: Db): Promise<UnpricedModel[]> {
  return unpricedModels(db);
}

/**
 * Prices, in place, the events of a batch that state no cost (`costSource` 'unpriced' on
 * entry), loading the sheet (with the own prices of the batch's organizations) once for the
 * whole batch. An event whose model has no price at
 * its time stays 'unpriced' with cost 0; one whose computed cost exceeds what an event may
 * cost is rejected through `reject`, as a stated cost would be.
 */
export async function priceUnstatedCosts(
  db: Db,
  events: UsageEvent[],
  reject: (index: number, field: string, reason: string) => void,
): Promise<void> {
  if (!events.some((e) => e.costSource === 'unpriced')) return;
  const book = await loadPriceBook(
    db,
    events.map((e) => e.organizationId),
  );
  events.forEach((event, index) => {
    if (event.costSource !== 'unpriced') return;
    const price = book.priceAt(event.organizationId, event.model, event.occurredAt);
    if (!price) return;
    const cost = eventCostNano(event, price);
    if (cost > MAX_EVENT_COST_NANO) {
      reject(index, 'cost', 'priced from the sheet exceeds 1000000 CHF; state the cost of this event');
      return;
    }
    event.costNano = cost;
    event.costSource = 'sheet';
  });
}

/** Rejects a time range whose end is not after its start. */
export function checkRange(from: number | undefined, to: number | undefined): void {
  if (from !== undefined && to !== undefined && to <= from) {
    throw invalidRequest('Invalid request body', [{ field: 'to', reason: 'must be after from' }]);
  }
}
