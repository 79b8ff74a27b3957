import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addMonths, dayKeyOf, dayKeyRange, daysInMonth, isoDateOfDayKey, monthKeyOf } from './calendar.ts';

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
});
