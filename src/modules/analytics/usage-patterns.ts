/**
 * Pure building blocks of the hourly usage, the weekly heatmap and the trends: the hours of a
 * day, weekday × hour cells and their peaks, compound growth, the least-squares forecast and
 * its confidence, and the patterns named from them. No I/O here, so that every rule of DESIGN
 * ("The rest of the Freddy family") is tested directly. Sums stay bigint; forecasts are exact
 * rationals rounded once, half to even.
 */
import { divideHalfEven } from '../../money/chf.ts';
import { DAY_MS, hourKeyOf } from '../../time/calendar.ts';
import type { Counters } from '../../usage/counters.ts';

/** What the heatmap and the trends count: neurons, synapses, or (null) both. */
export type UsageMetric = 'neurons' | 'synapses' | null;

/** The counters a metric is made of, all that the heatmap and the trends read. */
export type MetricCounters = Pick<Counters, 'neurons' | 'synapses'>;

export function metricValue(counters: MetricCounters, metric: UsageMetric): bigint {
  if (metric === 'neurons') return counters.neurons;
  if (metric === 'synapses') return counters.synapses;
  return counters.neurons + counters.synapses;
}

/** Weekdays as the answers name them, Monday first (the order ties are broken in). */
export const WEEKDAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type WeekdayName = (typeof WEEKDAY_NAMES)[number];

/** The weekday of a time, 0 = Monday … 6 = Sunday (UTC). */
export function weekdayOf(ms: number): number {
  // 1970-01-01 was a Thursday (3 counting from Monday).
  return (((Math.floor(ms / DAY_MS) + 3) % 7) + 7) % 7;
}

/** The hour among those with activity that cost the most, the earlier on a tie; null when none had any. */
export function peakHour(hours: ReadonlyArray<Counters & { hour: number }>): number | null {
  let peak: (Counters & { hour: number }) | undefined;
  for (const hour of hours) {
    if (hour.requests > 0n && (peak === undefined || hour.costNano > peak.costNano)) peak = hour;
  }
  return peak?.hour ?? null;
}

export interface Heatmap {
  /** cells[weekday][hour], weekday 0 = Monday. */
  cells: bigint[][];
  peakHours: Array<{ day: WeekdayName; hour: number; value: bigint }>;
  peakDay: WeekdayName | null;
  peakHour: number | null;
  lowActivityDays: WeekdayName[];
}

/** How many cells `peakHours` lists. */
const PEAK_CELLS = 5;

/** The usage of one weekday (0 = Monday) and UTC hour of the day, over a range of days. */
export interface WeekHourCell extends MetricCounters {
  weekday: number;
  hour: number;
}

/** Weekday × hour cells (those without usage may be absent), with the peaks and the quiet days. */
export function heatmapOf(usage: readonly WeekHourCell[], metric: UsageMetric): Heatmap {
  const cells = WEEKDAY_NAMES.map(() => Array.from({ length: 24 }, () => 0n));
  for (const cell of usage) cells[cell.weekday]![cell.hour]! += metricValue(cell, metric);
  const ranked = cells
    .flatMap((hours, day) => hours.map((value, hour) => ({ day, hour, value })))
    .filter((cell) => cell.value > 0n)
    // Stable sort: cells come Monday first, then by hour, which is the order ties keep.
    .sort((a, b) => (a.value === b.value ? 0 : a.value > b.value ? -1 : 1));
  const dayTotals = cells.map((hours) => hours.reduce((sum, v) => sum + v, 0n));
  const hourTotals = Array.from({ length: 24 }, (_, hour) => cells.reduce((sum, hours) => sum + hours[hour]!, 0n));
  const total = dayTotals.reduce((sum, v) => sum + v, 0n);
  return {
    cells,
    peakHours: ranked.slice(0, PEAK_CELLS).map((c) => ({ day: WEEKDAY_NAMES[c.day]!, hour: c.hour, value: c.value })),
    peakDay: total === 0n ? null : WEEKDAY_NAMES[indexOfMax(dayTotals)]!,
    peakHour: total === 0n ? null : indexOfMax(hourTotals),
    // Below half the mean weekday total: day × 7 × 2 < total, in integers.
    lowActivityDays: WEEKDAY_NAMES.filter((_, day) => dayTotals[day]! * 14n < total),
  };
}

function indexOfMax(values: readonly bigint[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** The hour keys of the UTC days from `firstDayMs` to `lastDayMs` (day starts), both included. */
export function hourKeysOfDays(firstDayMs: number, lastDayMs: number): [number, number] {
  return [hourKeyOf(firstDayMs), hourKeyOf(lastDayMs) + 23];
}

/**
 * Compound monthly growth from the first to the last month with a non-zero value, as a
 * fraction; null with fewer than two such months.
 */
export function compoundGrowth(values: readonly bigint[]): number | null {
  const nonZero = values.flatMap((value, i) => (value > 0n ? [{ value, i }] : []));
  if (nonZero.length < 2) return null;
  const first = nonZero[0]!;
  const last = nonZero.at(-1)!;
  return (Number(last.value) / Number(first.value)) ** (1 / (last.i - first.i)) - 1;
}

export type Confidence = 'high' | 'medium' | 'low';

export interface Forecast {
  /** The month after the last value's. */
  nextMonth: bigint;
  /** The three months after the last value's, each never below 0, summed. */
  nextQuarter: bigint;
  confidence: Confidence;
  /** R² of the line; null with fewer than two values. */
  rSquared: number | null;
}

/**
 * The least-squares line through `values` (x = 0, 1, …), read at x = `from`, `from` + 1 and
 * `from` + 2. With integer x and y, a prediction times D = n·(n·Σx² − (Σx)²) is an integer, so
 * forecasts are exact before they are rounded, half to even. With one value the line is flat
 * through it; with none it is 0. Confidence from R² (≥ 0.8 high, ≥ 0.5 medium, else low); a
 * line through fewer than two values, or through zeros only (no usage to forecast from), is `low`.
 */
export function leastSquaresForecast(values: readonly bigint[], from: number): Forecast {
  const n = BigInt(values.length);
  if (n < 2n || values.every((v) => v === 0n)) {
    const flat = values[0] ?? 0n;
    return { nextMonth: flat, nextQuarter: flat * 3n, confidence: 'low', rSquared: null };
  }
  let sx = 0n;
  let sxx = 0n;
  let sy = 0n;
  let sxy = 0n;
  values.forEach((y, i) => {
    const x = BigInt(i);
    sx += x;
    sxx += x * x;
    sy += y;
    sxy += x * y;
  });
  const spread = n * sxx - sx * sx;
  const slope = n * sxy - sx * sy;
  const denominator = n * spread;
  // ŷ(X)·D = Σy·spread + slope·(n·X − Σx)
  const scaled = (x: number) => sy * spread + slope * (n * BigInt(x) - sx);
  const atLeastZero = (v: bigint) => (v < 0n ? 0n : v);
  const next = atLeastZero(scaled(from));
  const quarter = next + atLeastZero(scaled(from + 1)) + atLeastZero(scaled(from + 2));
  const rSquared = rSquaredOf(values, (x) => Number(scaled(x)) / Number(denominator));
  return {
    nextMonth: divideHalfEven(next, denominator),
    nextQuarter: divideHalfEven(quarter, denominator),
    confidence: rSquared >= 0.8 ? 'high' : rSquared >= 0.5 ? 'medium' : 'low',
    rSquared,
  };
}

/** 1 − SSres / SStot; a flat series is fitted exactly (1). */
function rSquaredOf(values: readonly bigint[], line: (x: number) => number): number {
  const ys = values.map(Number);
  const mean = ys.reduce((s, y) => s + y, 0) / ys.length;
  const total = ys.reduce((s, y) => s + (y - mean) ** 2, 0);
  if (total === 0) return 1;
  const residual = ys.reduce((s, y, x) => s + (y - line(x)) ** 2, 0);
  return 1 - residual / total;
}

export interface TrendPattern {
  type: 'growth' | 'decline' | 'stable' | 'seasonality';
  description: string;
}

/** |growth| from which a trend is growth or decline rather than stable. */
const TREND_THRESHOLD = 0.05;
/** How much higher the mean weekday day must be than the mean weekend day (or the reverse). */
const SEASONALITY_RATIO = 1.25;

/**
 * The trend (growth, decline or stable; none without a growth rate) and the weekly seasonality
 * (`weekdayMean` and `weekendMean`: the mean value of a weekday and of a weekend day).
 */
export function trendPatterns(growth: number | null, weekdayMean: number, weekendMean: number): TrendPattern[] {
  const patterns: TrendPattern[] = [];
  if (growth !== null) {
    const percent = Math.round(Math.abs(growth) * 100);
    if (growth >= TREND_THRESHOLD) {
      patterns.push({ type: 'growth', description: `Consistent month-over-month growth of about ${percent} %` });
    } else if (growth <= -TREND_THRESHOLD) {
      patterns.push({ type: 'decline', description: `Month-over-month decline of about ${percent} %` });
    } else {
      patterns.push({ type: 'stable', description: 'Stable usage: month-over-month change below 5 %' });
    }
  }
  if (weekdayMean > 0 && weekdayMean >= SEASONALITY_RATIO * weekendMean) {
    patterns.push({ type: 'seasonality', description: 'Higher usage on weekdays than on weekends' });
  } else if (weekendMean > 0 && weekendMean >= SEASONALITY_RATIO * weekdayMean) {
    patterns.push({ type: 'seasonality', description: 'Higher usage on weekends than on weekdays' });
  }
  return patterns;
}
