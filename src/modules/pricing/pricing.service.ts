/**
 * The price sheet: what each model costs from when on, pricing of events that state no cost,
 * and repricing of stored events after the sheet changed.
 */
import { invalidRequest } from '../../errors.ts';
import { MAX_EVENT_COST_NANO } from '../../money/chf.ts';
import type { Db } from '../../storage/schema.ts';
import type { UsageEvent } from '../../usage/event.ts';
import { eventCostNano } from './cost.ts';
import { type PriceEntry, PriceSheet } from './price-sheet.ts';
import { loadPriceEntries, type UnpricedModel, unpricedModels, upsertPrice } from './pricing.repository.ts';

export { type RepriceResult, reprice } from './reprice.ts';

export async function loadPriceSheet(db: Db): Promise<PriceSheet> {
  return new PriceSheet(await loadPriceEntries(db));
}

/** The sheet in force at `at`: one entry per model or pattern. */
export async function priceSheetAt(db: Db, at: number): Promise<PriceEntry[]> {
  return (await loadPriceSheet(db)).sheetAt(at);
}

export async function setPrice(db: Db, entry: PriceEntry, now: number): Promise<PriceEntry> {
  await upsertPrice(db, entry, now);
  return entry;
}

export async function listUnpricedModels(db: Db): Promise<UnpricedModel[]> {
  return unpricedModels(db);
}

/**
 * Prices, in place, the events of a batch that state no cost (`costSource` 'unpriced' on
 * entry), loading the sheet once for the whole batch. An event whose model has no price at
 * its time stays 'unpriced' with cost 0; one whose computed cost exceeds what an event may
 * cost is rejected through `reject`, as a stated cost would be.
 */
export async function priceUnstatedCosts(
  db: Db,
  events: UsageEvent[],
  reject: (index: number, field: string, reason: string) => void,
): Promise<void> {
  if (!events.some((e) => e.costSource === 'unpriced')) return;
  const sheet = await loadPriceSheet(db);
  events.forEach((event, index) => {
    if (event.costSource !== 'unpriced') return;
    const price = sheet.priceAt(event.model, event.occurredAt);
    if (!price) return;
    const cost = eventCostNano(event.neurons, event.synapses, price);
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
