/**
 * UTC calendar arithmetic. Rollups are keyed by integers: a month as yyyymm (202511) and a
 * day as yyyymmdd (20251119), which sort, range-scan and compare on both engines alike.
 */

/** Milliseconds in a UTC day (no leap seconds in epoch time). */
export const DAY_MS = 86_400_000;

/** Milliseconds in an hour. */
export const HOUR_MS = 3_600_000;

/** The earliest time a usage event may have. */
export const EARLIEST_EVENT_MS = Date.UTC(2000, 0, 1);

/** How far ahead of the server's clock an event may be dated (clock skew between hosts). */
export const MAX_EVENT_FUTURE_MS = DAY_MS;

/** The latest year an event can be dated in at `now`. */
export function latestEventYear(now: number): number {
  return new Date(now + MAX_EVENT_FUTURE_MS).getUTCFullYear();
}

export interface YearMonth {
  year: number;
  month: number; // 1–12
}

export function yearMonthOf(ms: number): YearMonth {
  const date = new Date(ms);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1 };
}

/** The month a `?year&month` query names, each part defaulting to the current UTC one. */
export function requestedMonth(query: { year?: number; month?: number }, now: number): YearMonth {
  const current = yearMonthOf(now);
  return { year: query.year ?? current.year, month: query.month ?? current.month };
}

export function monthKey({ year, month }: YearMonth): number {
  return year * 100 + month;
}

export function monthKeyOf(ms: number): number {
  return monthKey(yearMonthOf(ms));
}

export function dayKeyOf(ms: number): number {
  const date = new Date(ms);
  return date.getUTCFullYear() * 10_000 + (date.getUTCMonth() + 1) * 100 + date.getUTCDate();
}

/** 20251119 → "2025-11-19". */
export function isoDateOfDayKey(dayKey: number): string {
  const year = Math.floor(dayKey / 10_000);
  const month = Math.floor(dayKey / 100) % 100;
  const day = dayKey % 100;
  return `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}`;
}

export function isoDateOf(ms: number): string {
  return isoDateOfDayKey(dayKeyOf(ms));
}

export function daysInMonth({ year, month }: YearMonth): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** First and last day keys of a month, for range scans over daily rollups. */
export function dayKeyRange(yearMonth: YearMonth): [number, number] {
  const base = monthKey(yearMonth) * 100;
  return [base + 1, base + daysInMonth(yearMonth)];
}

/**
 * The hour key of a time: whole hours since 1970-01-01T00:00Z. (yyyymmddhh would not fit the
 * 32-bit integer columns rollups key their buckets by.)
 */
export function hourKeyOf(ms: number): number {
  return Math.floor(ms / HOUR_MS);
}

/** First and last hour keys of a month, for range scans over hourly rollups. */
export function hourKeyRange(yearMonth: YearMonth): [number, number] {
  const next = addMonths(yearMonth, 1);
  return [
    hourKeyOf(Date.UTC(yearMonth.year, yearMonth.month - 1, 1)),
    hourKeyOf(Date.UTC(next.year, next.month - 1, 1)) - 1,
  ];
}

/** Epoch ms of the start of a UTC day given as yyyymmdd. */
export function dayStartOfKey(dayKey: number): number {
  return Date.UTC(Math.floor(dayKey / 10_000), (Math.floor(dayKey / 100) % 100) - 1, dayKey % 100);
}

/** The month `offset` months after `from` (negative goes back). */
export function addMonths({ year, month }: YearMonth, offset: number): YearMonth {
  const index = year * 12 + (month - 1) + offset;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

const LEAP_SECOND = /^(.*T\d\d:\d\d:)60(?:\.\d+)?(.*)$/i;

/**
 * Epoch milliseconds of an ISO-8601 time, NaN when it is none. A leap second (23:59:60 UTC,
 * in any offset) counts as 23:59:59.999: epoch time has no 61st second, and the event stays in
 * the day, month and year it names.
 */
export function parseIsoTime(text: string): number {
  const parsed = Date.parse(text);
  const leap = Number.isNaN(parsed) ? LEAP_SECOND.exec(text) : null;
  if (!leap) return parsed;
  const lastSecond = Date.parse(`${leap[1]}59${leap[2]}`);
  const utc = new Date(lastSecond);
  return utc.getUTCHours() === 23 && utc.getUTCMinutes() === 59 ? lastSecond + 999 : Number.NaN;
}

/** ISO-8601 in UTC without milliseconds, as the Freddy API writes times. */
export function isoSeconds(ms: number): string {
  // toISOString always ends in ".sssZ".
  return `${new Date(ms).toISOString().slice(0, -5)}Z`;
}
