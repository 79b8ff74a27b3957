import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Counters, emptyCounters } from '../../usage/counters.ts';
import {
  approximateTokens,
  fillMonthDays,
  growthRatePercent,
  isoMonth,
  monthName,
  peakDay,
  rankKeys,
} from './series.ts';

const counters = (requests: bigint, costNano: bigint, neurons = 0n, synapses = 0n): Counters => ({
  ...emptyCounters(),
  requests,
  costNano,
  neurons,
  synapses,
});

describe('growthRatePercent', () => {
  const cases: Array<[string, bigint, bigint | undefined, number | null]> = [
    ['no previous period', 5n, undefined, null],
    ['previous period cost nothing', 5n, 0n, null],
    ['doubling', 200n, 100n, 100],
    ['unchanged', 100n, 100n, 0],
    ['halving', 50n, 100n, -50],
    ['down to zero', 0n, 100n, -100],
    ['one third, rounded', 4n, 3n, 33.33],
    ['two thirds down, rounded', 1n, 3n, -66.67],
    ['tie rounds to even (0.125 % → 0.12)', 100_125n, 100_000n, 0.12],
    ['tie rounds to even (0.135 % → 0.14)', 100_135n, 100_000n, 0.14],
    ['negative tie rounds to even', 99_875n, 100_000n, -0.12],
    ['beyond float precision', 10n ** 18n + 1n, 10n ** 18n, 0],
  ];
  for (const [name, cost, previous, expected] of cases) {
    it(name, () => assert.equal(growthRatePercent(cost, previous), expected));
  }
});

describe('fillMonthDays', () => {
  const cases: Array<[string, { year: number; month: number }, number, string, string]> = [
    ['leap February', { year: 2024, month: 2 }, 29, 'Thursday', 'Thursday'],
    ['common February', { year: 2025, month: 2 }, 28, 'Saturday', 'Friday'],
    ['31-day month', { year: 2025, month: 12 }, 31, 'Monday', 'Wednesday'],
    ['30-day month', { year: 2025, month: 11 }, 30, 'Saturday', 'Sunday'],
  ];
  for (const [name, period, length, firstWeekday, lastWeekday] of cases) {
    it(`${name}: every day, in order, with English weekdays`, () => {
      const days = fillMonthDays(period, new Map());
      assert.equal(days.length, length);
      assert.deepEqual(
        days.map((d) => d.dayOfMonth),
        Array.from({ length }, (_, i) => i + 1),
      );
      assert.equal(days[0]!.dayOfWeek, firstWeekday);
      assert.equal(days.at(-1)!.dayOfWeek, lastWeekday);
      assert.ok(days.every((d) => !d.hasData && d.requests === 0n && d.costNano === 0n));
    });
  }

  it('takes counters from the rows of the month and zeros elsewhere', () => {
    const days = fillMonthDays(
      { year: 2024, month: 2 },
      new Map([
        [20240229, counters(3n, 7n, 1n, 2n)],
        [20240301, counters(9n, 9n)], // next month: ignored
      ]),
    );
    const leap = days.at(-1)!;
    assert.deepEqual(leap, {
      ...counters(3n, 7n, 1n, 2n),
      date: '2024-02-29',
      dayOfWeek: 'Thursday',
      dayOfMonth: 29,
      hasData: true,
    });
    assert.equal(days.filter((d) => d.hasData).length, 1);
    assert.equal(days[0]!.date, '2024-02-01');
  });
});

describe('peakDay', () => {
  const period = { year: 2025, month: 3 };
  const cases: Array<[string, Array<[number, bigint]>, string | null]> = [
    ['no usage', [], null],
    ['usage without cost', [[20250304, 0n]], null],
    ['one day', [[20250304, 5n]], '2025-03-04'],
    [
      'highest wins',
      [
        [20250302, 5n],
        [20250320, 9n],
        [20250331, 8n],
      ],
      '2025-03-20',
    ],
    [
      'earliest of a tie',
      [
        [20250310, 9n],
        [20250302, 9n],
      ],
      '2025-03-02',
    ],
  ];
  for (const [name, rows, expected] of cases) {
    it(name, () => {
      const byDay = new Map(rows.map(([day, cost]) => [day, counters(1n, cost)]));
      assert.equal(peakDay(fillMonthDays(period, byDay)), expected);
    });
  }
});

describe('rankKeys', () => {
  it('orders by cost, then requests, then id', () => {
    const key = (apiKeyId: string, cost: bigint, requests: bigint) => ({ apiKeyId, ...counters(requests, cost) });
    const ranked = rankKeys([
      key('apikey_b', 5n, 1n),
      key('apikey_a', 5n, 1n),
      key('apikey_Z', 5n, 1n), // upper case sorts first by code unit
      key('apikey_c', 5n, 2n),
      key('apikey_d', 6n, 0n),
    ]);
    assert.deepEqual(
      ranked.map((k) => k.apiKeyId),
      ['apikey_d', 'apikey_c', 'apikey_Z', 'apikey_a', 'apikey_b'],
    );
  });
});

describe('names and tokens', () => {
  it('approximates 10 tokens per neuron and per synapse', () =>
    assert.equal(approximateTokens(counters(1n, 0n, 3n, 4n)), 70n));
  it('names months in English', () => assert.deepEqual([monthName(1), monthName(12)], ['January', 'December']));
  it('writes months as YYYY-MM', () => assert.equal(isoMonth({ year: 2024, month: 2 }), '2024-02'));
});
