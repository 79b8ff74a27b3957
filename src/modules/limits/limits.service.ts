/**
 * Spend limits on three tiers: the organization's monthly limit on all usage, a limit on all
 * API-key usage together, and each key's own. Limits are monthly and spend is always read for
 * one UTC month from the rollups, so budgets reset on the first of the month by construction.
 */
import { AppError, invalidRequest } from '../../errors.ts';
import { nanoToChf } from '../../money/chf.ts';
import type { Storage } from '../../storage/storage.ts';
import { monthKey, type YearMonth } from '../../time/calendar.ts';
import { type BudgetStatus, budgetView } from '../../usage/budget.ts';
import { type AnalyticsContext, readAnalytics } from '../analytics/analytics.reads.ts';
import { findApiKey, liveKeyLimits, updateApiKey } from '../api-keys/api-keys.repository.ts';
import { lockOrganization } from '../orgs/orgs.repository.ts';
import { requireOrganization } from '../orgs/orgs.service.ts';
import { monthSpend, setOrganizationLimits } from './limits.repository.ts';

const SEVERITY: BudgetStatus[] = ['no_limit', 'ok', 'warning', 'exceeded'];

/** The worst of the statuses, `no_limit` when none has a limit. */
export function worstStatus(statuses: readonly BudgetStatus[]): BudgetStatus {
  return statuses.reduce((worst, s) => (SEVERITY.indexOf(s) > SEVERITY.indexOf(worst) ? s : worst), 'no_limit');
}

/** Limits and spend of one month on every tier, read as every analytics answer is (analytics.reads.ts). */
export async function usageLimits(ctx: AnalyticsContext, organizationId: string, period: YearMonth) {
  const { org, spend, keys } = await readAnalytics(
    ctx,
    'usage-limits',
    organizationId,
    [monthKey(period)],
    async (db) => {
      const [org, spend, keys] = await Promise.all([
        requireOrganization(db, organizationId),
        monthSpend(db, organizationId, monthKey(period)),
        liveKeyLimits(db, organizationId),
      ]);
      return { org, spend, keys };
    },
  );
  const orgBudget = budgetView(spend.organizationNano, org.monthlyLimitNano);
  const apiBudget = budgetView(spend.apiKeysNano, org.apiKeysLimitNano);
  const keyLimits = keys.flatMap((key) => {
    if (key.monthlyLimitNano === null) return [];
    const spent = spend.byKey.get(key.id) ?? 0n;
    const view = budgetView(spent, key.monthlyLimitNano);
    return [
      {
        id: key.id,
        name: key.name,
        limit: view.monthlyLimit!,
        spent: nanoToChf(spent),
        remaining: view.remainingBudget!,
        utilization: view.utilizationPercentage!,
        status: view.status,
      },
    ];
  });
  return {
    organization_id: organizationId,
    month: period.month,
    year: period.year,
    organization_limits: {
      monthly_limit: orgBudget.monthlyLimit,
      spent: nanoToChf(spend.organizationNano),
      remaining: orgBudget.remainingBudget,
      utilization: orgBudget.utilizationPercentage,
      status: orgBudget.status,
    },
    api_limits:
      apiBudget.monthlyLimit === null
        ? null
        : {
            limit: apiBudget.monthlyLimit,
            spent: nanoToChf(spend.apiKeysNano),
            remaining: apiBudget.remainingBudget!,
            utilization: apiBudget.utilizationPercentage!,
            status: apiBudget.status,
          },
    api_key_limits: keyLimits,
    summary: {
      total_keys: keys.length,
      keys_with_limits: keyLimits.length,
      overall_status: worstStatus([orgBudget.status, apiBudget.status, ...keyLimits.map((k) => k.status)]),
    },
  };
}

/** A change of limits; undefined leaves a limit as it is, null removes it. */
export interface LimitsUpdate {
  monthlyNano?: bigint | null | undefined;
  apiKeysNano?: bigint | null | undefined;
  apiKeyId?: string | undefined;
  apiKeyLimitNano?: bigint | null | undefined;
}

/** Applies all of the changes or none (one transaction, the organization locked against concurrent changes). */
export async function updateLimits(storage: Storage, organizationId: string, update: LimitsUpdate): Promise<void> {
  if ((update.apiKeyId === undefined) !== (update.apiKeyLimitNano === undefined)) {
    const field = update.apiKeyId === undefined ? 'api_key_id' : 'api_key_limit';
    throw invalidRequest('Invalid request body', [
      { field, reason: `is required together with ${field === 'api_key_id' ? 'api_key_limit' : 'api_key_id'}` },
    ]);
  }
  await storage.transaction(async (trx) => {
    const org = await lockOrganization(storage, trx, organizationId);
    if (!org) throw new AppError('ORGANIZATION_NOT_FOUND', { details: { organization_id: organizationId } });
    const monthly = update.monthlyNano === undefined ? org.monthlyLimitNano : update.monthlyNano;
    const apiKeys = update.apiKeysNano === undefined ? org.apiKeysLimitNano : update.apiKeysNano;
    if (monthly !== null && apiKeys !== null && apiKeys > monthly) {
      const field = update.apiKeysNano === undefined ? 'monthly_api_limit' : 'total_api_key_limit';
      throw invalidRequest('Invalid limits', [
        {
          field,
          reason: `would put total_api_key_limit (${nanoToChf(apiKeys)} CHF) above monthly_api_limit (${nanoToChf(monthly)} CHF)`,
        },
      ]);
    }
    if (update.apiKeyId !== undefined) {
      const key = await findApiKey(trx, organizationId, update.apiKeyId);
      if (!key || key.state === 'deleted') {
        throw new AppError('API_KEY_NOT_FOUND', { details: { api_key_id: update.apiKeyId } });
      }
      await updateApiKey(trx, organizationId, key.id, { monthlyLimitNano: update.apiKeyLimitNano });
    }
    await setOrganizationLimits(trx, organizationId, {
      monthlyNano: update.monthlyNano,
      apiKeysNano: update.apiKeysNano,
    });
  });
}
