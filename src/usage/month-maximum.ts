/**
 * What one organization may use in one UTC month: at most 1,000,000,000 CHF, 2^53 - 1 neurons
 * and 2^53 - 1 synapses. Every rollup row of a month is part of its organization's month total
 * (rollup_org_month, whose CHECK constraints hold these bounds), so every sum the API answers
 * for one month fits a 64-bit integer, and a JSON number exactly.
 */
import { NANO_PER_CHF } from '../money/chf.ts';

export const MAX_MONTH_COST_NANO = 1_000_000_000n * NANO_PER_CHF;
export const MAX_MONTH_UNITS = 2n ** 53n - 1n;
