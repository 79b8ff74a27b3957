/**
 * The analytics the Freddy API documents, computed from rollups only. Money stays in
 * nano-CHF until the response object is built.
 */
import type { Static } from '@sinclair/typebox';
import { averageCostPerRequest, nanoToChf, percentage } from '../../money/chf.ts';
import { isoDateOf, isoDateOfDayKey, isoSeconds, monthKey, monthKeyOf, type YearMonth } from '../../time/calendar.ts';
import { budgetView } from '../../usage/budget.ts';
import { type Counters, sumCounters } from '../../usage/counters.ts';
import { requireApiKey } from '../api-keys/api-keys.service.ts';
import { type AnalyticsContext, readAnalytics } from './analytics.reads.ts';
import { apiKeyMonthTotals, usageOverview } from './analytics.repository.ts';
import type { ApiKeysSummaryResponse, ApiKeyUsageResponse, UsageSummaryResponse } from './analytics.schemas.ts';

const TOP_MODELS = 5;

export async function usageSummary(
  ctx: AnalyticsContext,
  organizationId: string,
  now: number,
): Promise<Static<typeof UsageSummaryResponse>> {
  const month = monthKeyOf(now);
  const { createdAt, models, currentMonth, firstDay } = await readAnalytics(
    ctx,
    'usage-summary',
    organizationId,
    [month],
    async (db, createdAt) => ({ createdAt, ...(await usageOverview(db, organizationId, month)) }),
  );
  const total = sumCounters(models);
  const top = [...models]
    .sort(
      (a, b) =>
        compareDesc(a.costNano, b.costNano) || compareDesc(a.requests, b.requests) || a.model.localeCompare(b.model),
    )
    .slice(0, TOP_MODELS);
  return {
    organization_id: organizationId,
    totalRequests: Number(total.requests),
    total_synapses: Number(total.synapses),
    totalNeurons: Number(total.neurons),
    totalCost: nanoToChf(total.costNano),
    averageCostPerRequest: averageCostPerRequest(total.costNano, total.requests),
    topModels: top.map((m) => ({
      model: m.model,
      cost: nanoToChf(m.costNano),
      requests: Number(m.requests),
      percentage: percentage(m.costNano, total.costNano),
    })),
    currentMonth: { cost: nanoToChf(currentMonth.costNano), requests: Number(currentMonth.requests) },
    timeRange: {
      start: firstDay === null ? isoDateOf(createdAt) : isoDateOfDayKey(firstDay),
      end: isoDateOf(now),
      period: 'all_time',
    },
  };
}

export async function apiKeysSummary(
  ctx: AnalyticsContext,
  organizationId: string,
  period: YearMonth,
  now: number,
): Promise<Static<typeof ApiKeysSummaryResponse>> {
  const month = monthKey(period);
  const totals = await readAnalytics(ctx, 'api-keys-summary', organizationId, [month], (db) =>
    apiKeyMonthTotals(db, organizationId, month),
  );
  return apiKeysSummaryOf(organizationId, period, totals, now);
}

/** The API-key summary of a month from its programmatic totals; the daily API-key series reuses it. */
export function apiKeysSummaryOf(
  organizationId: string,
  period: YearMonth,
  totals: Counters,
  now: number,
): Static<typeof ApiKeysSummaryResponse> {
  return {
    organization_id: organizationId,
    month: period.month,
    year: period.year,
    totalApiKeyRequests: Number(totals.requests),
    totalApiKeyCost: nanoToChf(totals.costNano),
    averageCostPerRequest: averageCostPerRequest(totals.costNano, totals.requests),
    total_synapses: Number(totals.synapses),
    totalNeurons: Number(totals.neurons),
    generatedAt: isoSeconds(now),
  };
}

export async function apiKeyUsage(
  ctx: AnalyticsContext,
  organizationId: string,
  apiKeyId: string,
  period: YearMonth,
): Promise<Static<typeof ApiKeyUsageResponse>> {
  const month = monthKey(period);
  const { key, totals } = await readAnalytics(ctx, 'api-key-usage', organizationId, [apiKeyId, month], async (db) => {
    const key = await requireApiKey(db, organizationId, apiKeyId);
    return { key, totals: await apiKeyMonthTotals(db, organizationId, month, apiKeyId) };
  });
  return {
    apiKeyId: key.id,
    apiKeyName: key.name,
    organizationId,
    month: period.month,
    year: period.year,
    usage: {
      totalRequests: Number(totals.requests),
      totalCost: nanoToChf(totals.costNano),
      totalSynapses: Number(totals.synapses),
      totalNeurons: Number(totals.neurons),
      averageCostPerRequest: averageCostPerRequest(totals.costNano, totals.requests),
    },
    limit: budgetView(totals.costNano, key.monthlyLimitNano),
  };
}

function compareDesc(a: bigint, b: bigint): number {
  return a > b ? -1 : a < b ? 1 : 0;
}
