import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Counters, emptyCounters } from '../../usage/counters.ts';
import { compoundGrowth, heatmapOf, leastSquaresForecast, trendPatterns, weekdayOf } from './usage-patterns.ts';

const units = (neurons: number, synapses = 0): Counters => ({
  ...emptyCounters(),
  requests: 1n,
  neurons: BigInt(neurons),
  synapses: BigInt(synapses),
});

describe('weekdayOf', () => {
  for (const [iso, weekday] of [
    ['1970-01-01T00:00:00Z', 3],
    ['2025-11-17T00:00:00Z', 0],
    ['2025-11-23T23:59:59.999Z', 6],
    ['2024-02-29T12:00:00Z', 3],
  ] as const) {
    it(`${iso} is weekday ${weekday} (Monday 0)`, () => assert.equal(weekdayOf(Date.parse(iso)), weekday));
  }
});

describe('heatmapOf', () => {
  it('sums each weekday and hour, breaks ties Monday first, then by the earlier hour, and lists cells with usage only', () => {
    const heatmap = heatmapOf(
      [
        { weekday: 6, hour: 5, ...units(7) },
        { weekday: 0, hour: 6, ...units(7) },
        { weekday: 0, hour: 5, ...units(3) },
        { weekday: 0, hour: 5, ...units(0, 4) },
      ],
      null,
    );
    assert.deepEqual(
      heatmap.peakHours.map((c) => [c.day, c.hour]),
      [
        ['monday', 5],
        ['monday', 6],
        ['sunday', 5],
      ],
    );
    assert.equal(heatmap.peakDay, 'monday');
    assert.equal(heatmap.peakHour, 5);
  });
});

describe('compoundGrowth', () => {
  for (const [values, expected] of [
    [[], null],
    [[0, 5, 0], null],
    [[100, 200], 1],
    [[0, 100, 0, 25], -0.5],
    [[400, 0, 0, 100], (1 / 4) ** (1 / 3) - 1],
  ] as const) {
    it(`${JSON.stringify(values)} → ${expected}`, () => assert.equal(compoundGrowth(values.map(BigInt)), expected));
  }
});

describe('leastSquaresForecast', () => {
  it('never forecasts below 0, month by month', () => {
    // 300, 200, 100: the line reads 0 at x = 3, −100 at x = 4 and −200 at x = 5.
    assert.deepEqual(leastSquaresForecast([300n, 200n, 100n], 3), {
      nextMonth: 0n,
      nextQuarter: 0n,
      confidence: 'high',
      rSquared: 1,
    });
    assert.equal(leastSquaresForecast([300n, 200n, 100n], 2).nextQuarter, 100n);
  });

  it('rounds half to even once, on the exact value', () => {
    // Slope 0.3 through x = 0 … 3; at x = 4 the lines read 0.75 + 0.75 = 1.5 and 1.75 + 0.75 = 2.5.
    assert.equal(leastSquaresForecast([0n, 1n, 1n, 1n], 4).nextMonth, 2n);
    assert.equal(leastSquaresForecast([1n, 2n, 2n, 2n], 4).nextMonth, 2n);
    // 1.5 + 1.8 + 2.1 = 5.4: the quarter is rounded once, not month by month (2 + 2 + 2).
    assert.equal(leastSquaresForecast([0n, 1n, 1n, 1n], 4).nextQuarter, 5n);
  });

  it('grades confidence by R²', () => {
    assert.equal(leastSquaresForecast([10n, 0n, 10n, 0n], 4).confidence, 'low');
    assert.equal(leastSquaresForecast([1n, 3n, 2n, 4n], 4).confidence, 'medium'); // R² = 0.64
    assert.equal(leastSquaresForecast([5n], 1).confidence, 'low');
    assert.equal(leastSquaresForecast([0n, 0n], 2).confidence, 'low');
  });
});

describe('trendPatterns', () => {
  it('names decline, stable at the edges of 5 %, and weekend seasonality', () => {
    assert.deepEqual(trendPatterns(-0.2, 10, 10), [
      { type: 'decline', description: 'Month-over-month decline of about 20 %' },
    ]);
    assert.equal(trendPatterns(0.049, 1, 1)[0]!.type, 'stable');
    assert.equal(trendPatterns(0.05, 1, 1)[0]!.type, 'growth');
    assert.deepEqual(trendPatterns(null, 4, 5), [
      { type: 'seasonality', description: 'Higher usage on weekends than on weekdays' },
    ]);
    assert.deepEqual(trendPatterns(null, 4, 4.9), []);
    assert.deepEqual(trendPatterns(null, 0, 0), []);
  });
});
