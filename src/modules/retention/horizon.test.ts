import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monthsFrom, retentionHorizon } from './horizon.ts';

describe('retentionHorizon', () => {
  const cases: Array<[string, number, string]> = [
    ['2026-12-02T10:00:00Z', 1, '2026-12-01T00:00:00.000Z'],
    ['2026-12-02T10:00:00Z', 3, '2026-10-01T00:00:00.000Z'],
    ['2026-01-01T00:00:00Z', 1, '2026-01-01T00:00:00.000Z'],
    ['2025-12-31T23:59:59.999Z', 1, '2025-12-01T00:00:00.000Z'],
    ['2026-02-28T12:00:00Z', 12, '2025-03-01T00:00:00.000Z'],
    ['2026-03-15T12:00:00Z', 27, '2024-01-01T00:00:00.000Z'],
  ];
  for (const [now, months, horizon] of cases) {
    it(`keeps ${months} month(s) at ${now} from ${horizon}`, () => {
      assert.equal(new Date(retentionHorizon(Date.parse(now), months)).toISOString(), horizon);
    });
  }
});

describe('monthsFrom', () => {
  it('counts across the end of a year', () => {
    assert.deepEqual(monthsFrom(Date.parse('2026-11-30T23:00:00Z'), 3), [202611, 202612, 202701, 202702]);
  });
});
