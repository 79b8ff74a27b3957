/**
 * Repairs rollups that `verify` found different from their raw events: each month with a
 * difference is rebuilt from its events for the organizations concerned, one transaction per
 * month, with ingestion held off meanwhile so that no increment is lost (as repricing does).
 * Months whose raw events retention removed are never rebuilt.
 */
import type { Storage } from '../../storage/storage.ts';
import { monthKeyOf } from '../../time/calendar.ts';
import { eventsRemovedBefore } from '../retention/retention.repository.ts';
import type { RollupDifference } from './check.ts';
import { rebuildMonth } from './rebuild.ts';

/** Rebuilds every (month, organizations) that has a difference; answers the months rebuilt (yyyymm). */
export async function repairRollups(storage: Storage, differences: readonly RollupDifference[]): Promise<number[]> {
  const byMonth = new Map<number, Set<string>>();
  for (const d of differences) {
    const organizations = byMonth.get(d.month) ?? new Set<string>();
    organizations.add(d.organizationId);
    byMonth.set(d.month, organizations);
  }
  // A month whose raw events retention removed would be rebuilt to nothing: its rollups stay.
  const removedBefore = await eventsRemovedBefore(storage.db);
  const months = [...byMonth.keys()]
    .filter((month) => removedBefore === 0 || month >= monthKeyOf(removedBefore))
    .sort((a, b) => a - b);
  for (const key of months) {
    const month = { year: Math.floor(key / 100), month: key % 100 };
    await storage.transaction(async (trx) => {
      await storage.holdIngestion(trx);
      await rebuildMonth(trx, month, [...byMonth.get(key)!].sort());
    });
  }
  return months;
}
