/**
 * The hourly usage of a day, the weekly heatmap of the last days and the trends of the last
 * months, read from the hourly, daily and monthly rollups. Money stays in nano-CHF until the
 * response object is built.
 */
import type { Static } from '@sinclair/typebox';
import { invalidRequest } from '../../errors.ts';
import { nanoToChf, ratio } from '../../money/chf.ts';
import {
  addMonths,
  DAY_MS,
  dayKeyOf,
  daysInMonth,
  EARLIEST_EVENT_MS,
  hourKeyOf,
  isoDateOf,
  MAX_EVENT_FUTURE_MS,
  monthKey,
  type YearMonth,
  yearMonthOf,
} from '../../time/calendar.ts';
import { emptyCounters, sumCounters } from '../../usage/counters.ts';
import { type AnalyticsContext, readAnalytics } from './analytics.reads.ts';
import { isoMonth } from './series.ts';
import { hourSeries, type TrendTotals, trendTotals, weekHourTotals } from './usage-patterns.repository.ts';
import type { HeatmapResponse, HourlyUsageResponse, TrendsResponse } from './usage-patterns.schemas.ts';
import {
  compoundGrowth,
  heatmapOf,
  hourKeysOfDays,
  leastSquaresForecast,
  metricValue,
  peakHour,
  trendPatterns,
  type UsageMetric,
  WEEKDAY_NAMES,
  weekdayOf,
} from './usage-patterns.ts';

const startOfDay = (ms: number) => ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * The 24 hours of a UTC day (`date`, YYYY-MM-DD, already a valid calendar date): from 2000-01-01
 * to the last day an event may be dated in now (now + 24 h); otherwise 400 naming `date`.
 */
export async function hourlyUsage(
  ctx: AnalyticsContext,
  organizationId: string,
  date: string,
  now: number,
): Promise<Static<typeof HourlyUsageResponse>> {
  const dayStart = Date.parse(`${date}T00:00:00Z`);
  const lastDay = startOfDay(now + MAX_EVENT_FUTURE_MS);
  if (!(dayStart >= EARLIEST_EVENT_MS && dayStart <= lastDay)) {
    throw invalidRequest('Invalid query parameters', [
      { field: 'date', reason: `must be from ${isoDateOf(EARLIEST_EVENT_MS)} to ${isoDateOf(lastDay)}` },
    ]);
  }
  const first = hourKeyOf(dayStart);
  const byHour = await readAnalytics(ctx, 'usage-hourly', organizationId, [first], (db) =>
    hourSeries(db, organizationId, first, first + 23),
  );
  const hours = Array.from({ length: 24 }, (_, hour) => ({ hour, ...(byHour.get(first + hour) ?? emptyCounters()) }));
  const active = hours.filter((h) => h.requests > 0n);
  const total = sumCounters(hours);
  return {
    organization_id: organizationId,
    period: 'hourly',
    data: hours.map((h) => ({
      hour: h.hour,
      hour_display: `${pad2(h.hour)}:00`,
      total_requests: Number(h.requests),
      total_cost_chf: nanoToChf(h.costNano),
      total_synapses: Number(h.synapses),
      total_neurons: Number(h.neurons),
      has_data: h.requests > 0n,
    })),
    totalRequests: Number(total.requests),
    totalCost: nanoToChf(total.costNano),
    summary: {
      date,
      avg_requests_per_hour: ratio(total.requests, BigInt(active.length), 2),
      hours_with_activity: active.length,
      peak_hour: peakHour(hours),
      currency: 'CHF',
    },
  };
}

/** Weekday × hour over the last `days` UTC days, today included. */
export async function usageHeatmap(
  ctx: AnalyticsContext,
  organizationId: string,
  days: number,
  metric: UsageMetric,
  now: number,
): Promise<Static<typeof HeatmapResponse>> {
  const today = startOfDay(now);
  const [first, last] = hourKeysOfDays(today - (days - 1) * DAY_MS, today);
  const cells = await readAnalytics(ctx, 'usage-heatmap', organizationId, [first, last], (db) =>
    weekHourTotals(db, organizationId, first, last),
  );
  const heatmap = heatmapOf(cells, metric);
  return {
    organization_id: organizationId,
    metric,
    heatmap_data: Object.fromEntries(
      WEEKDAY_NAMES.map((day, d) => [
        day,
        Object.fromEntries(heatmap.cells[d]!.map((value, hour) => [pad2(hour), Number(value)])),
      ]),
    ),
    peak_hours: heatmap.peakHours.map((cell) => ({ ...cell, value: Number(cell.value) })),
    patterns: {
      peak_day: heatmap.peakDay,
      peak_hour: heatmap.peakHour,
      low_activity_days: heatmap.lowActivityDays,
    },
  };
}

/** The last `count` calendar months, the current one included, with growth, forecast and patterns. */
export async function usageTrends(
  ctx: AnalyticsContext,
  organizationId: string,
  count: number,
  metric: UsageMetric,
  now: number,
): Promise<Static<typeof TrendsResponse>> {
  const current = yearMonthOf(now);
  const months = Array.from({ length: count }, (_, i) => addMonths(current, i - count + 1));
  const [first, last] = [monthKey(months[0]!), monthKey(current)];
  const firstDay = monthKey(months[0]!) * 100 + 1;
  const today = dayKeyOf(now);
  const totals = await readAnalytics(ctx, 'usage-trends', organizationId, [first, last, today], (db) =>
    trendTotals(db, organizationId, [first, last], [firstDay, today]),
  );
  const values = months.map((m) => metricValue(totals.byMonth.get(monthKey(m)) ?? emptyCounters(), metric));
  // The current month is not over: growth and the line take only the months before it.
  const complete = values.slice(0, -1);
  const growth = compoundGrowth(complete);
  // x = 0 … n−1 are the complete months, n the current one: the next month is n + 1.
  const forecast = leastSquaresForecast(complete, complete.length + 1);
  const { weekdayMean, weekendMean } = weekMeans(months[0]!, now, totals, metric);
  const start = months[0]!;
  return {
    organization_id: organizationId,
    metric,
    period: {
      months: count,
      start: `${isoMonth(start)}-01`,
      end: `${isoMonth(current)}-${pad2(daysInMonth(current))}`,
    },
    trends: {
      overall_growth_rate: growth === null ? null : Math.round(growth * 100) / 100 || 0,
      monthly_data: months.map((m, i) => ({ month: isoMonth(m), value: Number(values[i]!) })),
      forecast_next_month: Number(forecast.nextMonth),
    },
    patterns: trendPatterns(growth, weekdayMean, weekendMean),
    forecasts: {
      next_month: Number(forecast.nextMonth),
      next_quarter: Number(forecast.nextQuarter),
      confidence: forecast.confidence,
    },
  };
}

/** The mean value of a weekday and of a weekend day, from the first day of `from` to today. */
function weekMeans(from: YearMonth, now: number, totals: TrendTotals, metric: UsageMetric) {
  let weekdays = 0;
  let weekendDays = 0;
  for (let day = Date.UTC(from.year, from.month - 1, 1); day <= now; day += DAY_MS) {
    if (weekdayOf(day) >= 5) weekendDays++;
    else weekdays++;
  }
  return {
    weekdayMean: weekdays === 0 ? 0 : Number(metricValue(totals.weekdays, metric)) / weekdays,
    weekendMean: weekendDays === 0 ? 0 : Number(metricValue(totals.weekend, metric)) / weekendDays,
  };
}
