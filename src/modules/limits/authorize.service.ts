/**
 * The budget check a gateway makes before a model request: does the estimated cost fit the
 * organization's limit, then the all-keys limit, then the key's own, given this month's
 * spend plus what open reservations already hold? If so the amount is reserved until usage
 * reporting settles it or the reservation expires.
 *
 * Decisions for one organization are serialized by a lock on its row (PostgreSQL) or the
 * single write lock (SQLite), held from the read of spend to the insert of the reservation,
 * so concurrent calls (in any number of server processes) cannot both take the last budget.
 */
import { AppError } from '../../errors.ts';
import { randomToken } from '../../ids.ts';
import { ChfAmount, nanoToChf } from '../../money/chf.ts';
import type { Storage } from '../../storage/storage.ts';
import { isoSeconds, monthKeyOf } from '../../time/calendar.ts';
import { MAX_MONTH_COST_NANO } from '../../usage/month-maximum.ts';
import { unusableKeyError } from '../auth/authenticate.ts';
import { lockOrganization } from '../orgs/orgs.repository.ts';
import { budgetUsage } from './limits.repository.ts';

export type BudgetTier = 'organization' | 'api_keys' | 'api_key';

/** Ended reservations are kept this long (for inspection), then deleted by later checks. */
const KEEP_ENDED_MS = 60 * 60 * 1000;

export interface AuthorizeRequest {
  organizationId: string;
  apiKeyId: string | null;
  estimatedNano: bigint;
}

export async function authorizeSpend(storage: Storage, request: AuthorizeRequest, now: number, ttlSeconds: number) {
  const { organizationId, apiKeyId, estimatedNano } = request;
  return storage.transaction(async (trx) => {
    const org = await lockOrganization(storage, trx, organizationId);
    if (!org) throw new AppError('ORGANIZATION_NOT_FOUND', { details: { organization_id: organizationId } });
    const usage = await budgetUsage(trx, organizationId, monthKeyOf(now), apiKeyId, now);
    const tiers: Array<[BudgetTier, bigint | null, bigint, bigint]> = [
      ['organization', org.monthlyLimitNano, usage.organizationSpentNano, usage.organizationReservedNano],
    ];
    if (apiKeyId !== null) {
      if (!usage.key) throw new AppError('API_KEY_NOT_FOUND', { details: { api_key_id: apiKeyId } });
      // A key that could not authenticate now may not spend either, and is refused alike.
      const unusable = unusableKeyError(usage.key, now, { api_key_id: apiKeyId });
      if (unusable) throw unusable;
      tiers.push(['api_keys', org.apiKeysLimitNano, usage.apiKeysSpentNano, usage.apiKeysReservedNano]);
      tiers.push(['api_key', usage.key.monthlyLimitNano, usage.keySpentNano, usage.keyReservedNano]);
    }
    const remaining: Record<BudgetTier, number | null> = { organization: null, api_keys: null, api_key: null };
    for (const [tier, limit, spent, reserved] of tiers) {
      // No organization may use more in a month, limit or not (month-limits.ts); this also
      // keeps the sum of its open reservations within 64 bits.
      const ceiling =
        tier === 'organization' && (limit === null || limit > MAX_MONTH_COST_NANO) ? MAX_MONTH_COST_NANO : limit;
      if (ceiling === null) continue;
      const left = ceiling - spent - reserved;
      if (left <= 0n || estimatedNano > left) {
        throw new AppError('USAGE_LIMIT_EXCEEDED', {
          systemMessage: `The estimated cost does not fit the ${tier} monthly limit`,
          details: {
            tier,
            limit: new ChfAmount(ceiling),
            spent: new ChfAmount(spent),
            reserved: new ChfAmount(reserved),
            estimated_cost: new ChfAmount(estimatedNano),
            organization_id: organizationId,
            ...(apiKeyId !== null ? { api_key_id: apiKeyId } : {}),
          },
        });
      }
      if (limit !== null) remaining[tier] = nanoToChf(left - estimatedNano);
    }

    const reservation = {
      organizationId,
      id: `rsv_${randomToken(24)}`,
      apiKeyId,
      amountNano: estimatedNano,
      createdAt: now,
      expiresAt: now + ttlSeconds * 1000,
    };
    await storage.insertReservation(trx, reservation, now - KEEP_ENDED_MS);
    return {
      success: true as const,
      allowed: true as const,
      reservation_id: reservation.id,
      organization_id: organizationId,
      api_key_id: apiKeyId,
      estimated_cost: nanoToChf(estimatedNano),
      expires_at: isoSeconds(reservation.expiresAt),
      remaining_budget: remaining,
    };
  });
}
