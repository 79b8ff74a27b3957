/**
 * Pure building blocks of the time-series analytics: filling a month with its calendar days,
 * growth between periods, token approximation and the ranking of keys. No I/O here, so the
 * edge cases (leap days, zero-cost months, ties) are tested directly.
 */
import { percentage } from '../../money/chf.ts';
import { daysInMonth, isoDateOfDayKey, monthKey, type YearMonth } from '../../time/calendar.ts';
import { type Counters, emptyCounters } from '../../usage/counters.ts';

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

/** One calendar day of a month and its usage (zeros on a day without any). */
export interface DayUsage extends Counters {
  date: string;
  dayOfWeek: string;
  dayOfMonth: number;
  hasData: boolean;
}

/** Every day of the month in order, taking counters from `byDay` (keyed yyyymmdd) where present. */
export function fillMonthDays(period: YearMonth, byDay: ReadonlyMap<number, Counters>): DayUsage[] {
  const base = monthKey(period) * 100;
  return Array.from({ length: daysInMonth(period) }, (_, i) => {
    const dayOfMonth = i + 1;
    const counters = byDay.get(base + dayOfMonth);
    return {
      ...(counters ?? emptyCounters()),
      date: isoDateOfDayKey(base + dayOfMonth),
      dayOfWeek: WEEKDAYS[new Date(Date.UTC(period.year, period.month - 1, dayOfMonth)).getUTCDay()]!,
      dayOfMonth,
      // Rollup rows exist only for days with at least one event.
      hasData: counters !== undefined && counters.requests > 0n,
    };
  });
}

/** The date of the day with the highest cost, the earliest on a tie; null when no day cost anything. */
export function peakDay(days: readonly DayUsage[]): string | null {
  let peak: DayUsage | undefined;
  for (const day of days) {
    if (day.costNano > 0n && (peak === undefined || day.costNano > peak.costNano)) peak = day;
  }
  return peak?.date ?? null;
}

/**
 * `(cost - previous) / previous × 100`, 2 decimals half to even, computed on nano-CHF so that
 * no float rounding creeps in; null when there is no previous period or it cost nothing.
 */
export function growthRatePercent(costNano: bigint, previousNano: bigint | undefined): number | null {
  if (previousNano === undefined || previousNano <= 0n) return null;
  return percentage(costNano - previousNano, previousNano);
}

/** The documented approximation: 1 neuron ≈ 10 input tokens, 1 synapse ≈ 10 output tokens. */
export function approximateTokens(counters: Counters): bigint {
  return counters.neurons * 10n + counters.synapses * 10n;
}

export function monthName(month: number): string {
  return MONTH_NAMES[month - 1]!;
}

/** "2025-11". */
export function isoMonth({ year, month }: YearMonth): string {
  return `${year}-${String(month).padStart(2, '0')}`;
}

export type KeyTotals = Counters & { apiKeyId: string };

/**
 * Keys by cost, then requests, both descending, then id by code unit, so the order is the
 * same on both engines whatever their string collation.
 */
export function rankKeys<T extends KeyTotals>(keys: readonly T[]): T[] {
  return [...keys].sort(
    (a, b) =>
      compareDesc(a.costNano, b.costNano) ||
      compareDesc(a.requests, b.requests) ||
      (a.apiKeyId < b.apiKeyId ? -1 : a.apiKeyId > b.apiKeyId ? 1 : 0),
  );
}

function compareDesc(a: bigint, b: bigint): number {
  return a > b ? -1 : a < b ? 1 : 0;
}
