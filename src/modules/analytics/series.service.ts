/**
 * Time series over the rollups: daily, monthly and yearly usage, API-key usage per day, and
 * the top keys of a month. Money stays in nano-CHF until the response object is built.
 */
import type { Static } from '@sinclair/typebox';
import { NANO_PER_CHF, nanoToChf, ratio } from '../../money/chf.ts';
import { addMonths, daysInMonth, isoDateOfDayKey, monthKey, type YearMonth } from '../../time/calendar.ts';
import { addCounters, type Counters, emptyCounters, sumCounters } from '../../usage/counters.ts';
import { type AnalyticsContext, readAnalytics } from './analytics.reads.ts';
import { apiKeysSummaryOf } from './analytics.service.ts';
import { dailyTotals, keyNames, keyTotalsOfMonth, monthlyTotals } from './series.repository.ts';
import type {
  ApiKeysDailyResponse,
  DailyUsageResponse,
  MonthlyUsageResponse,
  TopKeysResponse,
  YearlyUsageResponse,
} from './series.schemas.ts';
import {
  approximateTokens,
  fillMonthDays,
  growthRatePercent,
  isoMonth,
  monthName,
  peakDay,
  rankKeys,
} from './series.ts';

export async function dailyUsage(
  ctx: AnalyticsContext,
  organizationId: string,
  period: YearMonth,
): Promise<Static<typeof DailyUsageResponse>> {
  const byDay = await readAnalytics(ctx, 'usage-daily', organizationId, [monthKey(period)], (db) =>
    dailyTotals(db, organizationId, period, 'all'),
  );
  const days = fillMonthDays(period, byDay);
  const total = sumCounters(days);
  return {
    organization_id: organizationId,
    period: 'daily',
    data: days.map((day) => ({
      date: day.date,
      day_of_week: day.dayOfWeek,
      day_of_month: day.dayOfMonth,
      total_requests: Number(day.requests),
      total_cost_chf: nanoToChf(day.costNano),
      total_synapses: Number(day.synapses),
      total_neurons: Number(day.neurons),
      has_data: day.hasData,
    })),
    totalRequests: Number(total.requests),
    totalCost: nanoToChf(total.costNano),
    summary: {
      month: period.month,
      year: period.year,
      total_days: days.length,
      average_cost_per_day: ratio(total.costNano, BigInt(days.length) * NANO_PER_CHF, 2),
      peak_day: peakDay(days),
      currency: 'CHF',
    },
  };
}

/** `count` months ending with `current`, oldest first. */
export async function monthlyUsage(
  ctx: AnalyticsContext,
  organizationId: string,
  current: YearMonth,
  count: number,
): Promise<Static<typeof MonthlyUsageResponse>> {
  const months = Array.from({ length: count }, (_, i) => addMonths(current, i - count + 1));
  const [first, last] = [monthKey(months[0]!), monthKey(current)];
  const byMonth = await readAnalytics(ctx, 'usage-months', organizationId, [first, last], (db) =>
    monthlyTotals(db, organizationId, first, last),
  );
  const entries = withGrowth(months.map((m) => byMonth.get(monthKey(m)) ?? emptyCounters()));
  const total = sumCounters(entries.map((e) => e.counters));
  return {
    organization_id: organizationId,
    period: 'monthly',
    data: entries.map((entry, i) => ({
      month: months[i]!.month,
      year: months[i]!.year,
      month_name: monthName(months[i]!.month),
      ...entry.body,
    })),
    totalRequests: Number(total.requests),
    totalCost: nanoToChf(total.costNano),
    summary: {
      start_month: isoMonth(months[0]!),
      end_month: isoMonth(current),
      months_included: count,
      currency: 'CHF',
    },
  };
}

/** `count` years ending with `currentYear`, oldest first, summed from the monthly rollup. */
export async function yearlyUsage(
  ctx: AnalyticsContext,
  organizationId: string,
  currentYear: number,
  count: number,
): Promise<Static<typeof YearlyUsageResponse>> {
  const years = Array.from({ length: count }, (_, i) => currentYear - count + 1 + i);
  const [first, last] = [years[0]! * 100 + 1, currentYear * 100 + 12];
  const byMonth = await readAnalytics(ctx, 'usage-months', organizationId, [first, last], (db) =>
    monthlyTotals(db, organizationId, first, last),
  );
  const byYear = new Map(years.map((year) => [year, emptyCounters()]));
  for (const [month, counters] of byMonth) addCounters(byYear.get(Math.floor(month / 100))!, counters);
  const entries = withGrowth(years.map((year) => byYear.get(year)!));
  const total = sumCounters(entries.map((e) => e.counters));
  return {
    organization_id: organizationId,
    period: 'yearly',
    data: entries.map((entry, i) => ({ year: years[i]!, ...entry.body })),
    totalRequests: Number(total.requests),
    totalCost: nanoToChf(total.costNano),
    summary: { start_year: years[0]!, end_year: currentYear, years_included: count, currency: 'CHF' },
  };
}

export async function apiKeysDaily(
  ctx: AnalyticsContext,
  organizationId: string,
  period: YearMonth,
  now: number,
): Promise<Static<typeof ApiKeysDailyResponse>> {
  const byDay = await readAnalytics(ctx, 'api-keys-daily', organizationId, [monthKey(period)], (db) =>
    dailyTotals(db, organizationId, period, 'programmatic'),
  );
  const days = fillMonthDays(period, byDay);
  return {
    organization_id: organizationId,
    period: {
      year: period.year,
      month: period.month,
      startDate: days[0]!.date,
      endDate: days.at(-1)!.date,
      daysInMonth: days.length,
      daysWithApiUsage: days.filter((day) => day.hasData).length,
    },
    dailyUsage: days.map((day) => ({
      date: day.date,
      requests: Number(day.requests),
      cost: nanoToChf(day.costNano),
      synapses: Number(day.synapses),
      neurons: Number(day.neurons),
    })),
    // Summed from the same daily rows, so the summary always equals the days listed.
    summary: apiKeysSummaryOf(organizationId, period, sumCounters(days), now),
  };
}

export async function topApiKeys(
  ctx: AnalyticsContext,
  organizationId: string,
  period: YearMonth,
  limit: number,
): Promise<Static<typeof TopKeysResponse>> {
  const { ranked, names } = await readAnalytics(
    ctx,
    'top-keys',
    organizationId,
    [monthKey(period), limit],
    async (db) => {
      const ranked = rankKeys(await keyTotalsOfMonth(db, organizationId, monthKey(period)));
      const names = await keyNames(
        db,
        organizationId,
        ranked.slice(0, limit).map((key) => key.apiKeyId),
      );
      return { ranked, names };
    },
  );
  const top = ranked.slice(0, limit);
  const base = monthKey(period) * 100;
  return {
    organization_id: organizationId,
    period: {
      type: 'monthly',
      month: period.month,
      year: period.year,
      start_date: isoDateOfDayKey(base + 1),
      end_date: isoDateOfDayKey(base + daysInMonth(period)),
    },
    top_keys: top.map((key) => ({
      api_key_id: key.apiKeyId,
      key_name: names.get(key.apiKeyId) ?? '',
      total_requests: Number(key.requests),
      total_cost: nanoToChf(key.costNano),
      total_synapses: Number(key.synapses),
      total_neurons: Number(key.neurons),
    })),
    total_keys: ranked.length,
    limit,
  };
}

/** Period totals with the growth of each against the one before it (null for the first). */
function withGrowth(periods: readonly Counters[]) {
  return periods.map((counters, i) => ({
    counters,
    body: {
      total_cost_chf: nanoToChf(counters.costNano),
      total_requests: Number(counters.requests),
      total_synapses: Number(counters.synapses),
      total_tokens: Number(approximateTokens(counters)),
      growth_rate_percent: growthRatePercent(counters.costNano, i === 0 ? undefined : periods[i - 1]!.costNano),
    },
  }));
}
