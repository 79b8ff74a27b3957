import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addMonths,
  dayKeyOf,
  dayKeyRange,
  daysInMonth,
  isoDateOfDayKey,
  monthKeyOf,
  parseIsoTime,
} from './calendar.ts';

describe('calendar', () => {
  it('puts the last millisecond of a month in that month and the next millisecond in the next', () => {
    const last = Date.parse('2025-10-31T23:59:59.999Z');
    assert.equal(monthKeyOf(last), 202510);
    assert.equal(monthKeyOf(last + 1), 202511);
    assert.equal(dayKeyOf(last), 20251031);
    assert.equal(dayKeyOf(last + 1), 20251101);
  });
  it('crosses a year boundary', () => {
    assert.equal(monthKeyOf(Date.parse('2025-12-31T23:59:59.999Z')), 202512);
    assert.equal(monthKeyOf(Date.parse('2026-01-01T00:00:00Z')), 202601);
    assert.deepEqual(addMonths({ year: 2026, month: 1 }, -1), { year: 2025, month: 12 });
    assert.deepEqual(addMonths({ year: 2025, month: 12 }, 1), { year: 2026, month: 1 });
    assert.deepEqual(addMonths({ year: 2025, month: 3 }, -27), { year: 2022, month: 12 });
  });
  const lengths: Array<[number, number, number]> = [
    [2024, 2, 29],
    [2025, 2, 28],
    [2100, 2, 28],
    [2000, 2, 29],
    [2025, 4, 30],
    [2025, 12, 31],
  ];
  for (const [year, month, days] of lengths) {
    it(`${year}-${month} has ${days} days`, () => assert.equal(daysInMonth({ year, month }), days));
  }
  it('formats and ranges day keys', () => {
    assert.equal(isoDateOfDayKey(20240229), '2024-02-29');
    assert.deepEqual(dayKeyRange({ year: 2024, month: 2 }), [20240201, 20240229]);
  });
  describe('parseIsoTime', () => {
    const lastMs = Date.UTC(2016, 11, 31, 23, 59, 59, 999);
    const cases: Array<[string, number]> = [
      ['2025-11-15T12:00:00Z', Date.UTC(2025, 10, 15, 12)],
      ['2025-11-15T12:00:00.250+01:00', Date.UTC(2025, 10, 15, 11, 0, 0, 250)],
      ['2016-12-31T23:59:60Z', lastMs],
      ['2016-12-31T23:59:60.5Z', lastMs],
      ['2017-01-01T00:59:60+01:00', lastMs],
      ['2016-12-31T18:59:60-05:00', lastMs],
      ['2016-12-31t23:59:60z', lastMs],
    ];
    for (const [text, ms] of cases) {
      it(`reads ${text}`, () => assert.equal(parseIsoTime(text), ms));
    }
    it('keeps a leap second in the day, month and year it names', () => {
      assert.equal(dayKeyOf(parseIsoTime('2016-12-31T23:59:60Z')), 20161231);
    });
    for (const text of ['2016-12-31T12:00:60Z', '2016-12-31T23:58:60Z', '2016-12-31T23:59:61Z', 'yesterday']) {
      it(`refuses ${text}`, () => assert.ok(Number.isNaN(parseIsoTime(text))));
    }
  });
});
