import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { budgetStatus, budgetView } from './budget.ts';

const CHF = 1_000_000_000n;

describe('budgetStatus', () => {
  const cases: Array<[bigint, bigint | null, string]> = [
    [0n, null, 'no_limit'],
    [10_000n * CHF, null, 'no_limit'],
    [0n, 500n * CHF, 'ok'],
    [400n * CHF - 1n, 500n * CHF, 'ok'], // 79.9999998 % rounds to 80.00 but is not yet 80 %
    [400n * CHF, 500n * CHF, 'warning'],
    [500n * CHF - 1n, 500n * CHF, 'warning'],
    [500n * CHF, 500n * CHF, 'exceeded'],
    [900n * CHF, 500n * CHF, 'exceeded'],
  ];
  for (const [spent, limit, status] of cases) {
    it(`${spent} of ${limit} is ${status}`, () => assert.equal(budgetStatus(spent, limit), status));
  }
});

describe('budgetView', () => {
  it('reproduces the documented example: 350.25 of 500', () => {
    assert.deepEqual(budgetView(350_250_000_000n, 500n * CHF), {
      monthlyLimit: 500,
      utilizationPercentage: 70.05,
      remainingBudget: 149.75,
      status: 'ok',
    });
  });
  it('never shows a negative remaining budget', () => {
    assert.deepEqual(budgetView(600n * CHF, 500n * CHF), {
      monthlyLimit: 500,
      utilizationPercentage: 120,
      remainingBudget: 0,
      status: 'exceeded',
    });
  });
  it('is all null without a limit', () => {
    assert.deepEqual(budgetView(5n, null), {
      monthlyLimit: null,
      utilizationPercentage: null,
      remainingBudget: null,
      status: 'no_limit',
    });
  });
});
