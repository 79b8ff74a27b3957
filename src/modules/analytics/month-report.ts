/**
 * One month of an organization's usage for the `report` command: totals, each model, and each
 * API key with its budget status. Read from the rollups like every other analytics answer;
 * money is converted to CHF only when the report object is built.
 */
import { averageCostPerRequest, nanoToChf, percentage } from '../../money/chf.ts';
import type { Db } from '../../storage/schema.ts';
import { monthKey, type YearMonth } from '../../time/calendar.ts';
import { type BudgetView, budgetView } from '../../usage/budget.ts';
import { type Counters, emptyCounters, sumCounters } from '../../usage/counters.ts';
import { liveKeyLimits } from '../api-keys/api-keys.repository.ts';
import { requireOrganization } from '../orgs/orgs.service.ts';
import { COUNTER_SUMS, toCounters } from './analytics.repository.ts';
import { keyNames, keyTotalsOfMonth } from './series.repository.ts';
import { isoMonth, rankKeys } from './series.ts';

export interface CounterView {
  requests: number;
  neurons: number;
  synapses: number;
  cost: number;
}

export interface MonthReport {
  organization_id: string;
  organization_name: string;
  month: string;
  totals: CounterView & { average_cost_per_request: number };
  /** Usage made with an API key (the rest came from the web app). */
  api_key_totals: CounterView;
  models: Array<CounterView & { model: string; percentage: number }>;
  api_keys: Array<CounterView & { api_key_id: string; name: string; limit: BudgetView }>;
}

function counterView(c: Counters): CounterView {
  return {
    requests: Number(c.requests),
    neurons: Number(c.neurons),
    synapses: Number(c.synapses),
    cost: nanoToChf(c.costNano),
  };
}

/** Usage per model of one month, with or without a key. */
async function modelTotalsOfMonth(db: Db, organizationId: string, month: number) {
  const rows = await db
    .selectFrom('rollup_org_model_month')
    .select(['model', ...COUNTER_SUMS])
    .where('organization_id', '=', organizationId)
    .where('month', '=', month)
    .groupBy('model')
    .execute();
  return rows.map((row) => ({ model: row.model, ...toCounters(row) }));
}

export async function monthReport(db: Db, organizationId: string, period: YearMonth): Promise<MonthReport> {
  const org = await requireOrganization(db, organizationId);
  const month = monthKey(period);
  const [models, keyTotals, liveKeys] = await Promise.all([
    modelTotalsOfMonth(db, organizationId, month),
    keyTotalsOfMonth(db, organizationId, month),
    liveKeyLimits(db, organizationId),
  ]);
  const total = sumCounters(models);
  const apiKeyTotal = sumCounters(keyTotals);

  // Every key that can still spend, then deleted keys that spent this month (their usage still counts).
  const limits = new Map(liveKeys.map((k) => [k.id, k.monthlyLimitNano]));
  const ranked = rankKeys(keyTotals);
  const names = await keyNames(
    db,
    organizationId,
    ranked.map((k) => k.apiKeyId),
  );
  for (const key of liveKeys) names.set(key.id, key.name);
  const keys = [
    ...ranked,
    ...liveKeys
      .filter((k) => !keyTotals.some((t) => t.apiKeyId === k.id))
      .map((k) => ({ apiKeyId: k.id, ...emptyCounters() })),
  ];
  return {
    organization_id: organizationId,
    organization_name: org.name,
    month: isoMonth(period),
    totals: { ...counterView(total), average_cost_per_request: averageCostPerRequest(total.costNano, total.requests) },
    api_key_totals: counterView(apiKeyTotal),
    models: models
      .sort((a, b) => (a.costNano === b.costNano ? a.model.localeCompare(b.model) : a.costNano > b.costNano ? -1 : 1))
      .map((m) => ({ model: m.model, ...counterView(m), percentage: percentage(m.costNano, total.costNano) })),
    api_keys: keys.map((k) => ({
      api_key_id: k.apiKeyId,
      name: names.get(k.apiKeyId) ?? '',
      ...counterView(k),
      limit: budgetView(k.costNano, limits.get(k.apiKeyId) ?? null),
    })),
  };
}
