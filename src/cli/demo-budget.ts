/**
 * The demo's production key: a monthly limit sized on a whole month of its usage, and a batch
 * job this month that brings it to warning level (80-100 % of the limit) on any day of the
 * month. A limit taken from this month's spend alone is absurd early in a month: on the 1st it
 * is one day's spend, and every earlier month shows thousands of percent of it.
 */

import { eventCostNano } from '../modules/pricing/cost.ts';
import type { PriceSheet } from '../modules/pricing/price-sheet.ts';
import type { DemoEventSpec } from './demo-usage.ts';

/** This month's spend of the production key ends at this share of its limit (warning: 80-100 %). */
export const TARGET_PERCENT = 87n;
/** The batch job's model; it has a price in the default sheet. */
export const BATCH_MODEL = 'gpt-4.1';

const CENT_NANO = 10_000_000n;
/** Batch requests are small against the limit, so that the last one overshoots the target by little. */
const BATCH_REQUESTS_PER_LIMIT = 400n;

export interface KeySpend {
  /** Spend of each complete month before this one, nano-CHF. */
  pastMonthsNano: bigint[];
  /** Spend of this month so far. */
  monthToDateNano: bigint;
  /** Day of the month today (1-31): the demo's usage of today is a whole day's. */
  dayOfMonth: number;
  daysInMonth: number;
}

/**
 * The busiest month (the earlier ones, and this one projected from the days so far) with 25 %
 * headroom, rounded up to two significant digits as a person would set it: no earlier month
 * reaches 80 %, and this month so far is at most 80 %.
 */
export function monthlyLimitNano(spend: KeySpend): bigint {
  const projected = (spend.monthToDateNano * BigInt(spend.daysInMonth)) / BigInt(spend.dayOfMonth);
  const busiest = [...spend.pastMonthsNano, projected].reduce((a, b) => (a > b ? a : b), 0n);
  return roundUpToTwoDigits((busiest * 5n) / 4n);
}

/** At least one cent; above a CHF, two significant digits (64.3 → 65, 123.4 → 130). */
export function roundUpToTwoDigits(nano: bigint): bigint {
  let step = CENT_NANO;
  while (nano > step * 100n) step *= 10n;
  const rounded = ((nano + step - 1n) / step) * step;
  return rounded > 0n ? rounded : CENT_NANO;
}

/**
 * Requests of the production key's batch job, spread evenly from `monthStart` to `now`, each
 * priced from `sheet` as ingestion will price it, until this month's spend reaches
 * TARGET_PERCENT of `limitNano`. Each request costs about 1/400 of the limit, so the spend ends
 * below TARGET_PERCENT + 0.25 %.
 */
export function batchJob(
  options: { seed: number; limitNano: bigint; monthToDateNano: bigint; monthStart: number; now: number },
  sheet: PriceSheet,
): DemoEventSpec[] {
  const { limitNano, monthStart, now } = options;
  const priceAt = (time: number) => {
    const price = sheet.priceAt(BATCH_MODEL, time);
    if (!price) throw new Error(`the price sheet has no price for ${BATCH_MODEL}; add one to run the demo`);
    return price;
  };
  // Requests of 100 neurons and 10 synapses, scaled up to about 1/400 of the limit each.
  const unit = eventCostNano({ neurons: 100n, synapses: 10n }, priceAt(now));
  const scale = unit > 0n ? limitNano / BATCH_REQUESTS_PER_LIMIT / unit : 1n;
  const [neurons, synapses] = scale > 1n ? [100n * scale, 10n * scale] : [100n, 10n];
  const missing = (limitNano * TARGET_PERCENT) / 100n - options.monthToDateNano;
  const perRequest = eventCostNano({ neurons, synapses }, priceAt(now));
  // A free model would never get there.
  if (perRequest <= 0n || missing <= 0n) return [];
  const planned = Number((missing + perRequest - 1n) / perRequest);
  const events: DemoEventSpec[] = [];
  let spent = 0n;
  for (let i = 0; spent < missing; i++) {
    // Evenly over the month so far; should the price have been lower earlier, the rest at `now`.
    const time = i < planned ? monthStart + Math.floor(((i + 0.5) * (now - monthStart)) / planned) : now;
    spent += eventCostNano({ neurons, synapses }, priceAt(time));
    events.push({
      source: 'gateway',
      event: {
        id: `demo_${options.seed}_batch_${i + 1}`,
        model: BATCH_MODEL,
        neurons: Number(neurons),
        synapses: Number(synapses),
        timestamp: new Date(time).toISOString(),
      },
    });
  }
  return events;
}
