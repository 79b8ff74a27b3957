import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COUNTER_NAMES } from './counters.ts';
import type { UsageEvent } from './event.ts';
import { rollupIncrements, rollupSums } from './increments.ts';
import { expandsTags, type RollupRow, type RollupTable } from './rollups.ts';

/** The increments of one rollup, by table. */
function rowsOf(events: UsageEvent[], table: RollupTable): RollupRow[] {
  return rollupIncrements(events).find((r) => r.rollup.table === table)!.rows;
}

const event = (id: string, apiKeyId: string | null, model: string, at: string, cost: bigint): UsageEvent => ({
  organizationId: 'org_a',
  id,
  apiKeyId,
  model,
  neurons: 10n,
  cachedNeurons: 0n,
  cacheWriteNeurons: 0n,
  synapses: 2n,
  reasoningSynapses: 0n,
  endUser: null,
  tags: {},
  costNano: cost,
  occurredAt: Date.parse(at),
});

describe('rollupIncrements', () => {
  const events = [
    event('1', 'apikey_k', 'gpt-4o', '2025-10-31T23:59:59.999Z', 5n),
    event('2', 'apikey_k', 'gpt-4o', '2025-11-01T00:00:00.000Z', 7n),
    event('3', null, 'gpt-4o', '2025-11-01T12:00:00.000Z', 11n),
    event('4', 'apikey_k', 'gpt-4o', '2025-11-01T13:00:00.000Z', 13n),
  ];

  it('sums all usage per organization, model and month, across the month boundary', () => {
    assert.deepEqual(
      rowsOf(events, 'rollup_org_model_month').map((r) => [
        r.time,
        ...r.values,
        r.requests,
        r.costNano,
        r.neurons,
        r.synapses,
      ]),
      [
        [202510, 'gpt-4o', 1n, 5n, 10n, 2n],
        [202511, 'gpt-4o', 3n, 31n, 30n, 6n],
      ],
    );
  });
  it('keeps only programmatic usage per key and month', () => {
    assert.deepEqual(
      rowsOf(events, 'rollup_key_model_month').map((r) => [r.time, r.values[0], r.requests, r.costNano]),
      [
        [202510, 'apikey_k', 1n, 5n],
        [202511, 'apikey_k', 2n, 20n],
      ],
    );
  });
  it('keeps web usage under the empty key in the daily rollup, sorted by key', () => {
    assert.deepEqual(
      rowsOf(events, 'rollup_key_day').map((r) => [r.time, r.values[0], r.requests, r.costNano]),
      [
        [20251031, 'apikey_k', 1n, 5n],
        [20251101, '', 1n, 11n],
        [20251101, 'apikey_k', 2n, 20n],
      ],
    );
  });
});

describe('rollupIncrements with sums past 2^53', () => {
  const max = 1_000_000_000_000_000n; // the largest cost one event may carry (1,000,000 CHF)
  const cases: Array<{ name: string; costs: bigint[] }> = [
    { name: 'two maximal costs', costs: [max, max] },
    { name: 'a thousand maximal costs', costs: Array.from({ length: 1000 }, () => max) },
    { name: 'odd amounts around 2^53', costs: [9_007_199_254_740_991n, 1n, max - 1n, 3n] },
  ];
  for (const { name, costs } of cases) {
    it(`sums exactly: ${name}`, () => {
      const events = costs.map((cost, i) => event(String(i), 'apikey_k', 'm', '2025-11-01T00:00:00Z', cost));
      const expected = costs.reduce((a, b) => a + b, 0n);
      for (const { rollup, rows } of rollupIncrements(events)) {
        // Events without tags add nothing to a rollup that counts tags.
        assert.deepEqual(
          rows.map((r) => [r.requests, r.costNano]),
          expandsTags(rollup) ? [] : [[BigInt(costs.length), expected]],
        );
      }
    });
  }
});

describe('rollupSums as bound parameters', () => {
  // In the order of COUNTER_COLUMN_LIST, as the parameters bind them.
  const counters = (row: RollupRow) => COUNTER_NAMES.map((name) => row[name]);
  it('binds numbers while the sums are exact doubles, bigints past that, each equal to the row', () => {
    const small = [5n, 7n].map((cost, i) => event(`s${i}`, 'apikey_k', 'm', '2025-11-01T00:00:00Z', cost));
    const large = [1_000_000_000_000_000n, 9_007_199_254_740_991n].map((cost, i) =>
      event(`l${i}`, 'apikey_k', 'm', '2025-11-01T00:00:00Z', cost),
    );
    for (const [events, type] of [
      [small, 'number'],
      [large, 'bigint'],
    ] as const) {
      const month = rollupSums(events).find(({ rollup }) => rollup.table === 'rollup_org_month')!.sums[0]!;
      const parameters = month.parameters();
      assert.deepEqual(parameters.slice(0, 2), ['org_a', 202511]);
      const bound = parameters.slice(2);
      assert.ok(
        bound.every((value) => typeof value === type),
        `${type}: ${bound.join(', ')}`,
      );
      const row = rollupIncrements(events).find(({ rollup }) => rollup.table === 'rollup_org_month')!.rows[0]!;
      assert.deepEqual(bound.map(BigInt), counters(row));
    }
  });
});

describe('rollupIncrements per organization and month', () => {
  it('sums every model of an organization and month into one row, organizations apart', () => {
    const of = (organizationId: string, model: string, at: string, cost: bigint) => ({
      ...event(`${organizationId}/${model}/${at}`, null, model, at, cost),
      organizationId,
    });
    const orgMonth = rowsOf(
      [
        of('org_a', 'm2', '2025-11-03T00:00:00Z', 1n),
        of('org_a_b', 'm1', '2025-11-03T00:00:00Z', 2n),
        of('org_a', 'm1', '2025-11-04T00:00:00Z', 4n),
        of('org_a', 'm3', '2025-10-04T00:00:00Z', 8n),
        of('org_a_b', 'm9', '2025-11-30T00:00:00Z', 16n),
      ],
      'rollup_org_month',
    );
    assert.deepEqual(
      orgMonth.map((r) => [r.organizationId, r.time, r.requests, r.costNano, r.neurons]),
      [
        ['org_a', 202510, 1n, 8n, 10n],
        ['org_a', 202511, 2n, 5n, 20n],
        ['org_a_b', 202511, 2n, 18n, 20n],
      ],
    );
  });
});

describe('rollupIncrements with events out of time order', () => {
  it('puts each event on its own day, whatever came before it', () => {
    const keyDay = rowsOf(
      [
        event('1', 'apikey_k', 'm', '2025-11-02T10:00:00.000Z', 1n),
        event('2', 'apikey_k', 'm', '2025-11-01T23:59:59.999Z', 2n),
        event('3', 'apikey_k', 'm', '2025-11-02T00:00:00.000Z', 4n),
        event('4', 'apikey_k', 'm', '1969-12-31T12:00:00.000Z', 8n),
        event('5', 'apikey_k', 'm', '2025-11-01T00:00:00.000Z', 16n),
      ],
      'rollup_key_day',
    );
    assert.deepEqual(
      keyDay.map((r) => [r.time, r.requests, r.costNano]),
      [
        [19691231, 1n, 8n],
        [20251101, 2n, 18n],
        [20251102, 2n, 5n],
      ],
    );
  });
});

describe('rollupIncrements of the breakdown rollups', () => {
  const tagged = (id: string, endUser: string | null, tags: Record<string, string>, cost: bigint): UsageEvent => ({
    ...event(id, null, 'gpt-4o', '2025-11-03T10:00:00Z', cost),
    endUser,
    tags,
  });
  const events = [
    tagged('1', 'alice', { feature: 'chat', team: 'search' }, 1n),
    tagged('2', null, { feature: 'chat' }, 2n),
    tagged('3', 'alice', {}, 4n),
  ];

  it('counts an event once per tag it carries, and one without tags not at all', () => {
    assert.ok(
      expandsTags({ table: 'x', grain: { column: 'day' } as never, dimensions: [], counts: 'all', expand: 'tags' }),
    );
    assert.deepEqual(
      rowsOf(events, 'rollup_model_tag_day').map((r) => [r.time, ...r.values, r.requests, r.costNano]),
      [
        [20251103, 'gpt-4o', 'feature', 'chat', 2n, 3n],
        [20251103, 'gpt-4o', 'team', 'search', 1n, 1n],
      ],
    );
  });

  it("keeps usage without an end user under ''", () => {
    assert.deepEqual(
      rowsOf(events, 'rollup_model_user_hour').map((r) => [...r.values, r.requests, r.costNano]),
      [
        ['gpt-4o', '', 1n, 2n],
        ['gpt-4o', 'alice', 2n, 5n],
      ],
    );
  });
});
