/**
 * Repricing: after a price was added or corrected, the stored events it concerns get their
 * cost from the sheet again (an organization's own price where it has one), and the rollups of every month that changed are rebuilt from the
 * events, one transaction per month. Events whose reporter stated the cost are never touched.
 */
import { MAX_EVENT_COST_NANO } from '../../money/chf.ts';
import type { Storage } from '../../storage/storage.ts';
import { monthKeyOf, type YearMonth } from '../../time/calendar.ts';
import type { CostSource } from '../../usage/event.ts';
import { MAX_MONTH_COST_NANO } from '../../usage/month-maximum.ts';
import { eventsRemovedBefore } from '../retention/retention.repository.ts';
import { monthBounds, rebuildMonth } from '../rollups/rebuild.ts';
import { monthTotals } from '../rollups/totals.ts';
import { eventCostNano } from './cost.ts';
import { PriceSheet } from './price-sheet.ts';
import { loadPriceBook, modelsWithUsage, organizationMonthsOf, repricableEvents } from './pricing.repository.ts';

export interface RepriceRequest {
  /** A model, a sheet pattern (`claude-*`), or a base name whose dated snapshots are included. */
  model: string;
  /** Epoch ms, inclusive; all history when absent. */
  from?: number | undefined;
  /** Epoch ms, exclusive; up to now when absent. */
  to?: number | undefined;
}

export interface RepriceResult {
  /** The event models that were looked at. */
  models: string[];
  /** Months (yyyymm) whose rollups were rebuilt. */
  months: number[];
  /** Events looked at (cost from the sheet or none). */
  examined: number;
  /** Events whose cost or priced state changed. */
  changed: number;
  /** Events that still have no price. */
  unpriced: number;
  /**
   * Events left as they were because their computed cost exceeds what one event may cost, or
   * their new costs would take their organization's month past what it may use in a month.
   */
  skipped: number;
}

export async function reprice(storage: Storage, request: RepriceRequest): Promise<RepriceResult> {
  // The platform's sheet and every organization's own prices: each event gets the price its organization gets.
  const book = await loadPriceBook(storage.db);
  const models = (await modelsWithUsage(storage.db)).filter((m) => PriceSheet.covers(request.model, m)).sort();
  // Months whose raw events retention removed keep their rollups: rebuilt, they would lose their usage.
  const removedBefore = await eventsRemovedBefore(storage.db);
  const from = Math.max(request.from ?? 0, removedBefore);
  const to = request.to ?? Number.MAX_SAFE_INTEGER;
  const pairs = await organizationMonthsOf(
    storage.db,
    models,
    from === 0 ? 0 : monthKeyOf(from),
    request.to === undefined ? 999_999 : monthKeyOf(to - 1),
  );
  const orgsByMonth = new Map<number, string[]>();
  for (const { organizationId, month } of pairs) {
    orgsByMonth.set(month, [...(orgsByMonth.get(month) ?? []), organizationId]);
  }

  const result: RepriceResult = { models, months: [], examined: 0, changed: 0, unpriced: 0, skipped: 0 };
  for (const monthKey of [...orgsByMonth.keys()].sort((a, b) => a - b)) {
    const month: YearMonth = { year: Math.floor(monthKey / 100), month: monthKey % 100 };
    const [start, end] = monthBounds(month);
    const organizationIds = orgsByMonth.get(monthKey)!.sort();
    const counts = await storage.transaction(async (trx) => {
      // Concurrent ingestion waits until the month's rollups are rebuilt, or an increment
      // committed in between would be lost by the rebuild.
      await storage.holdIngestion(trx);
      const monthCounts = { examined: 0, changed: 0, unpriced: 0, skipped: 0 };
      const touched: string[] = [];
      for (const organizationId of organizationIds) {
        const events = await repricableEvents(trx, organizationId, models, Math.max(from, start), Math.min(to, end));
        const updates: Array<{ id: string; costNano: bigint; costSource: CostSource }> = [];
        let added = 0n;
        let unpriced = 0;
        for (const event of events) {
          monthCounts.examined++;
          const price = book.priceAt(organizationId, event.model, event.occurredAt);
          const costNano = price ? eventCostNano(event, price) : 0n;
          if (costNano > MAX_EVENT_COST_NANO) {
            monthCounts.skipped++;
            continue;
          }
          const costSource: CostSource = price ? 'sheet' : 'unpriced';
          if (!price) unpriced++;
          if (costNano !== event.costNano || costSource !== event.costSource) {
            updates.push({ id: event.id, costNano, costSource });
            added += costNano - event.costNano;
          }
        }
        if (added > 0n && (await monthTotals(trx, organizationId, monthKey)).costNano + added > MAX_MONTH_COST_NANO) {
          // New costs past what the organization may use in the month: its events stay as they were.
          monthCounts.skipped += updates.length;
          monthCounts.unpriced += events.filter((e) => e.costSource === 'unpriced').length;
          continue;
        }
        monthCounts.unpriced += unpriced;
        if (updates.length > 0) {
          await storage.updateEventCosts(trx, organizationId, updates);
          touched.push(organizationId);
          monthCounts.changed += updates.length;
        }
      }
      await rebuildMonth(trx, month, touched);
      return { ...monthCounts, rebuilt: touched.length > 0 };
    });
    result.examined += counts.examined;
    result.changed += counts.changed;
    result.unpriced += counts.unpriced;
    result.skipped += counts.skipped;
    if (counts.rebuilt) result.months.push(monthKey);
  }
  return result;
}
