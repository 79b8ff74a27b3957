/**
 * Budget status of a monthly limit. Thresholds compare exact nano-CHF, not the rounded
 * percentage shown to users: 79.999 % is `ok` even though it displays as 80.00.
 */
import { nanoToChf, percentage } from '../money/chf.ts';

export type BudgetStatus = 'ok' | 'warning' | 'exceeded' | 'no_limit';

export const WARNING_PERCENT = 80n;

export function budgetStatus(spentNano: bigint, limitNano: bigint | null): BudgetStatus {
  if (limitNano === null) return 'no_limit';
  if (spentNano >= limitNano) return 'exceeded';
  if (spentNano * 100n >= limitNano * WARNING_PERCENT) return 'warning';
  return 'ok';
}

export interface BudgetView {
  monthlyLimit: number | null;
  utilizationPercentage: number | null;
  remainingBudget: number | null;
  status: BudgetStatus;
}

/** The `limit` block of the API-key usage endpoint; all numbers null when there is no limit. */
export function budgetView(spentNano: bigint, limitNano: bigint | null): BudgetView {
  if (limitNano === null) {
    return { monthlyLimit: null, utilizationPercentage: null, remainingBudget: null, status: 'no_limit' };
  }
  const remaining = limitNano > spentNano ? limitNano - spentNano : 0n;
  return {
    monthlyLimit: nanoToChf(limitNano),
    utilizationPercentage: percentage(spentNano, limitNano),
    remainingBudget: nanoToChf(remaining),
    status: budgetStatus(spentNano, limitNano),
  };
}
