/** Where raw event retention draws its line, in UTC calendar months. */
import { addMonths, monthKey, yearMonthOf } from '../../time/calendar.ts';

/**
 * The start (epoch ms) of the earliest month whose raw events are kept at `now` when
 * RAW_EVENTS_RETENTION_MONTHS is `months`: the current UTC month and the `months - 1` before it.
 */
export function retentionHorizon(now: number, months: number): number {
  const first = addMonths(yearMonthOf(now), -(months - 1));
  return Date.UTC(first.year, first.month - 1, 1);
}

/** The current UTC month and the `ahead` months after it, as yyyymm. */
export function monthsFrom(now: number, ahead: number): number[] {
  const current = yearMonthOf(now);
  return Array.from({ length: ahead + 1 }, (_, i) => monthKey(addMonths(current, i)));
}
