import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monthlyLimitNano, roundUpToTwoDigits } from './demo-budget.ts';

const CHF = 1_000_000_000n;
const chf = (text: string) => BigInt(Math.round(Number(text) * 1e9));

describe('demo budget', () => {
  it('rounds a limit up to two significant digits, and to at least one cent', () => {
    const cases: Array<[string, string]> = [
      ['0', '0.01'],
      ['0.000000001', '0.01'],
      ['0.734', '0.74'],
      ['1', '1'],
      ['64.3', '65'],
      ['99.99', '100'],
      ['100', '100'],
      ['100.01', '110'],
      ['123.4', '130'],
      ['5001', '5100'],
    ];
    for (const [input, expected] of cases) assert.equal(roundUpToTwoDigits(chf(input)), chf(expected), input);
  });

  it('sizes the limit on the busiest whole month, past or projected, with a quarter on top', () => {
    // The 1st: one day of spend projects to a month of it; earlier months are larger still.
    assert.equal(
      monthlyLimitNano({
        pastMonthsNano: [40n * CHF, 52n * CHF],
        monthToDateNano: 1n * CHF,
        dayOfMonth: 1,
        daysInMonth: 31,
      }),
      65n * CHF,
    );
    // No earlier month: the projection alone (2 CHF a day over 30 days = 60 CHF → 75 CHF).
    assert.equal(
      monthlyLimitNano({ pastMonthsNano: [], monthToDateNano: 20n * CHF, dayOfMonth: 10, daysInMonth: 30 }),
      75n * CHF,
    );
  });
});
