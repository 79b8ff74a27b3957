import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../errors.ts';
import { planReads, servedCombinations, spans } from './breakdown-plan.ts';
import { type BreakdownQuery, breakdownQuery, parseTime } from './breakdown-query.ts';

const NOW = Date.parse('2025-11-20T12:00:00Z');
const query = (params: Record<string, unknown>): BreakdownQuery => breakdownQuery(params, NOW);
const t = (iso: string) => Date.parse(iso);

describe('parseTime', () => {
  for (const [text, expected] of [
    ['2025-11-03', t('2025-11-03T00:00:00Z')],
    ['2024-02-29', t('2024-02-29T00:00:00Z')],
    ['2025-02-29', Number.NaN],
    ['2025-11-31', Number.NaN],
    ['2025-11-03T10:00:00Z', t('2025-11-03T10:00:00Z')],
    ['2025-11-03T12:00:00+02:00', t('2025-11-03T10:00:00Z')],
    ['2025-11-03T10:00', Number.NaN],
    ['20251103', Number.NaN],
    ['now', Number.NaN],
  ] as const) {
    it(`${text} → ${Number.isNaN(expected) ? 'no time' : new Date(expected).toISOString()}`, () =>
      assert.equal(parseTime(text), expected));
  }
});

describe('breakdownQuery', () => {
  it('defaults to the current month per day, no groups, limit 100', () => {
    assert.deepEqual(query({}), {
      from: t('2025-11-01T00:00:00Z'),
      to: t('2025-12-01T00:00:00Z'),
      window: 'day',
      groupBy: [],
      filters: {},
      limit: 100,
    });
  });

  it('reads api_key_id=none as usage without a key, and one tag filter', () => {
    assert.deepEqual(query({ api_key_id: 'none', 'tag.team': 'search', model: 'm' }).filters, {
      apiKeyId: '',
      model: 'm',
      tag: { key: 'team', value: 'search' },
    });
  });

  it('accepts a range of exactly 31 days of hours and exactly 5 years of days', () => {
    assert.doesNotThrow(() => query({ window: 'hour', from: '2025-10-01', to: '2025-11-01' }));
    assert.doesNotThrow(() => query({ window: 'day', from: '2020-02-29', to: '2025-02-28' }));
    assert.throws(() => query({ window: 'day', from: '2020-03-01', to: '2025-03-02' }), AppError);
  });
});

describe('spans', () => {
  const shown = (params: Record<string, unknown>) =>
    spans(query(params)).map((s) => `${s.grain.column}:${s.first}-${s.last}`);

  it('reads the grain of the window', () => {
    assert.deepEqual(shown({ window: 'hour', from: '2025-11-03', to: '2025-11-04' }), [
      `hour:${t('2025-11-03T00:00:00Z') / 3_600_000}-${t('2025-11-03T23:00:00Z') / 3_600_000}`,
    ]);
    assert.deepEqual(shown({ window: 'month', from: '2025-01-01', to: '2026-01-01' }), ['month:202501-202512']);
  });

  it('reads whole months, then days, then hours for window=all', () => {
    const hour = (iso: string) => t(iso) / 3_600_000;
    assert.deepEqual(shown({ window: 'all', from: '2025-09-15T08:00:00Z', to: '2025-11-04T01:00:00Z' }), [
      `hour:${hour('2025-09-15T08:00:00Z')}-${hour('2025-09-15T23:00:00Z')}`,
      'day:20250916-20250930',
      'month:202510-202510',
      'day:20251101-20251103',
      `hour:${hour('2025-11-04T00:00:00Z')}-${hour('2025-11-04T00:00:00Z')}`,
    ]);
    assert.deepEqual(shown({ window: 'all', from: '2025-11-03', to: '2025-11-05' }), ['day:20251103-20251104']);
  });
});

describe('planReads', () => {
  const tables = (params: Record<string, unknown>) =>
    planReads(query({ window: 'month', ...params })).map((r) => [r.main.table, r.base?.table]);

  it('reads the smallest rollup that holds what is grouped and filtered', () => {
    assert.deepEqual(tables({}), [['rollup_org_month', undefined]]);
    assert.deepEqual(tables({ group_by: 'model' }), [['rollup_org_model_month', undefined]]);
    assert.deepEqual(tables({ group_by: 'api_key' }), [['rollup_model_key_month', undefined]]);
    assert.deepEqual(tables({ group_by: 'end_user', model: 'm' }), [['rollup_model_user_month', undefined]]);
    assert.deepEqual(tables({ group_by: 'end_user' }), [['rollup_user_month', undefined]]);
    assert.deepEqual(tables({ group_by: 'tag:team' }), [['rollup_tag_month', 'rollup_org_month']]);
    assert.deepEqual(tables({ group_by: 'tag:team,model' }), [['rollup_model_tag_month', 'rollup_org_model_month']]);
    assert.deepEqual(tables({ group_by: 'tag:team', 'tag.team': 'x' }), [['rollup_tag_month', undefined]]);
    assert.deepEqual(
      planReads(query({ window: 'day', group_by: 'api_key' })).map((r) => r.main.table),
      ['rollup_key_day'],
    );
    assert.deepEqual(
      planReads(query({ window: 'day', group_by: 'model' })).map((r) => r.main.table),
      ['rollup_org_model_day'],
    );
  });

  it('ranks end users or tag values of a month by cost when nothing filters them', () => {
    const ranked = (params: Record<string, unknown>) =>
      planReads(query({ window: 'month', limit: 5, ...params })).map((r) => [r.top, r.all?.table, r.all?.where]);
    assert.deepEqual(ranked({ group_by: 'end_user' }), [[5, 'rollup_org_month', []]]);
    assert.deepEqual(ranked({ group_by: 'tag:team' }), [[5, 'rollup_tag_key_month', [['tag_key', 'team']]]]);
    for (const params of [
      { group_by: 'end_user', model: 'm' },
      { group_by: 'tag:team', 'tag.team': 'x' },
      { group_by: 'end_user,model' },
      { group_by: 'model' },
      { group_by: 'end_user', window: 'day' },
      { group_by: 'end_user', window: 'all' },
    ]) {
      assert.deepEqual(ranked(params), [[undefined, undefined, undefined]], JSON.stringify(params));
    }
  });

  it('refuses what no rollup holds, naming what is served', () => {
    for (const params of [
      { group_by: 'api_key,end_user' },
      { group_by: 'end_user', api_key_id: 'none' },
      { group_by: 'tag:a', 'tag.b': 'x' },
      { end_user: 'u', 'tag.b': 'x' },
    ]) {
      assert.throws(
        () => planReads(query(params)),
        (error: AppError) => error.code === 'INVALID_REQUEST' && /model,end_user/.test(error.systemMessage ?? ''),
        JSON.stringify(params),
      );
    }
  });

  it('serves every single dimension and each with model', () => {
    assert.deepEqual(servedCombinations().sort(), [
      'api_key',
      'end_user',
      'model',
      'model,api_key',
      'model,end_user',
      'model,tag:<key>',
      'tag:<key>',
    ]);
  });
});
