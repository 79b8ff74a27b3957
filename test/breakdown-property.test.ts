/**
 * Property: for random events (models, keys or none, end users or none, tags, times across
 * months) and random breakdown queries (every window, group_by, filter and limit), the answer
 * is what a brute-force computation over the test's own events says, to the nano-CHF: the same
 * rows in the same order, the "other" row included, and totals equal to the rows added up. A
 * combination the rollups do not serve is a 400. On both engines. FUZZ_RUNS sets the number of
 * runs (default 15), FUZZ_SEED the seed (a failure prints the one it had).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { nanoToChf } from '../src/money/chf.ts';
import { CHF, type EventInput, forEachDialect, ingest, makeApiKey, makeOrg, nanoToDecimal } from './harness.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 15);
const SEED = process.env.FUZZ_SEED === undefined ? {} : { seed: Number(process.env.FUZZ_SEED) };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.parse('2025-09-29T00:00:00Z');
const END = Date.parse('2025-10-02T00:00:00Z');

const eventArb = fc
  .record({
    model: fc.constantFrom('m0', 'm1'),
    key: fc.constantFrom(0, 1, 2),
    endUser: fc.constantFrom(null, 'u1', 'u2'),
    feature: fc.constantFrom(null, 'a', 'b'),
    team: fc.constantFrom(null, 'x', 'y'),
    at: fc.integer({ min: START, max: END - 1 }),
    neurons: fc.integer({ min: 0, max: 1_000_000 }),
    synapses: fc.integer({ min: 0, max: 1_000_000 }),
    // Often one of a few costs, so that groups tie in cost at the limit.
    costNano: fc.oneof(fc.bigInt(0n, 50n * CHF), fc.constantFrom(0n, 1n, CHF)),
  })
  .map((e) => ({
    ...e,
    cached: Math.floor(e.neurons / 3),
    cacheWrite: Math.floor(e.neurons / 5),
    reasoning: Math.floor(e.synapses / 2),
  }));
type Sent = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;

const GROUPS = [
  [],
  ['model'],
  ['api_key'],
  ['end_user'],
  ['tag:feature'],
  ['tag:team'],
  ['model', 'api_key'],
  ['api_key', 'model'],
  ['model', 'end_user'],
  ['tag:team', 'model'],
  ['api_key', 'end_user'],
  ['end_user', 'tag:team'],
];

/** Mostly absent: most queries filter by nothing or by one thing. */
const rarely = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, { arbitrary: arb, weight: 1 });

const queryArb = fc.record({
  window: fc.constantFrom('hour', 'day', 'month', 'all'),
  a: fc.integer({ min: START - 2 * DAY, max: END + 2 * DAY }),
  b: fc.integer({ min: START - 2 * DAY, max: END + 2 * DAY }),
  groupBy: fc.constantFrom(...GROUPS),
  model: rarely(fc.constantFrom('m0', 'm1')),
  key: rarely(fc.constantFrom(0, 1, 2)),
  endUser: rarely(fc.constantFrom('u1', 'u2')),
  tag: rarely(fc.constantFrom(['feature', 'a'], ['team', 'x'], ['team', 'y'])),
  limit: fc.integer({ min: 1, max: 3 }),
});
type Query = typeof queryArb extends fc.Arbitrary<infer T> ? T : never;

const monthStart = (ms: number) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};
const nextMonth = (ms: number) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};
const floorTo = (ms: number, unit: number) => ms - (ms % unit);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The query's range, aligned to its windows. */
function rangeOf(q: Query): [number, number] {
  const [lo, hi] = [Math.min(q.a, q.b), Math.max(q.a, q.b)];
  if (q.window === 'month') {
    const from = monthStart(lo);
    return [from, Math.max(nextMonth(from), monthStart(hi))];
  }
  const unit = q.window === 'day' ? DAY : HOUR;
  const from = floorTo(lo, unit);
  let to = Math.max(from + unit, floorTo(hi, unit));
  if (q.window === 'hour') to = Math.min(to, from + 31 * DAY);
  return [from, to];
}

/** Whether one rollup family holds every dimension grouped or filtered by. */
function served(q: Query): boolean {
  const dims = new Set(q.groupBy);
  if (q.model !== null) dims.add('model');
  if (q.key !== null) dims.add('api_key');
  if (q.endUser !== null) dims.add('end_user');
  if (q.tag !== null) dims.add(`tag:${q.tag[0]}`);
  const tags = [...dims].filter((d) => d.startsWith('tag:'));
  const rest = [...dims].filter((d) => !d.startsWith('tag:') && d !== 'model');
  if (tags.length > 1) return false;
  return tags.length === 1 ? rest.length === 0 : rest.length <= 1;
}

forEachDialect('breakdown property: answers equal a computation over the raw events', (server) => {
  it('holds for random events and queries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 1, maxLength: 40 }),
        fc.array(queryArb, { minLength: 1, maxLength: 8 }),
        async (events, queries) => {
          const org = (await makeOrg(server())).id;
          const keys = [null, (await makeApiKey(server(), org)).id, (await makeApiKey(server(), org)).id];
          const inputs = events.map((e, i) => ({
            id: `ev${i}`,
            organization_id: org,
            api_key_id: keys[e.key],
            model: e.model,
            neurons: e.neurons,
            cached_neurons: e.cached,
            cache_write_neurons: e.cacheWrite,
            synapses: e.synapses,
            reasoning_synapses: e.reasoning,
            cost: nanoToDecimal(e.costNano),
            timestamp: new Date(e.at).toISOString(),
            ...(e.endUser ? { end_user: e.endUser } : {}),
            tags: Object.fromEntries(
              [
                ['feature', e.feature],
                ['team', e.team],
              ].filter(([, v]) => v !== null),
            ),
          }));
          await ingest(server(), inputs as EventInput[]);
          for (const q of queries) {
            const [from, to] = rangeOf(q);
            const params = new URLSearchParams({
              window: q.window,
              from: iso(from),
              to: iso(to),
              limit: String(q.limit),
            });
            if (q.groupBy.length > 0) params.set('group_by', q.groupBy.join(','));
            if (q.model !== null) params.set('model', q.model);
            if (q.key !== null) params.set('api_key_id', keys[q.key] ?? 'none');
            if (q.endUser !== null) params.set('end_user', q.endUser);
            if (q.tag !== null) params.set(`tag.${q.tag[0]}`, q.tag[1]);
            const url = `/v1/analytics/usage/breakdown/${org}?${params}`;
            const response = await server().request('GET', url, { key: server().adminKey });
            if (!served(q)) {
              assert.equal(response.status, 400, `${url}: ${response.text}`);
              continue;
            }
            assert.equal(response.status, 200, `${url}: ${response.text}`);
            const expected = bruteForce(events, keys, q, from, to);
            assert.deepEqual(response.body.rows, expected.rows, url);
            assert.deepEqual(response.body.totals, expected.totals, url);
          }
        },
      ),
      { numRuns: RUNS, ...SEED },
    );
  });
});

interface Sums {
  requests: bigint;
  neurons: bigint;
  cached: bigint;
  cacheWrite: bigint;
  synapses: bigint;
  reasoning: bigint;
  cost: bigint;
}
const zero = (): Sums => ({
  requests: 0n,
  neurons: 0n,
  cached: 0n,
  cacheWrite: 0n,
  synapses: 0n,
  reasoning: 0n,
  cost: 0n,
});
function addEvent(s: Sums, e: Sent): void {
  s.requests += 1n;
  s.neurons += BigInt(e.neurons);
  s.cached += BigInt(e.cached);
  s.cacheWrite += BigInt(e.cacheWrite);
  s.synapses += BigInt(e.synapses);
  s.reasoning += BigInt(e.reasoning);
  s.cost += e.costNano;
}
function addSums(into: Sums, s: Sums): void {
  for (const k of Object.keys(into) as Array<keyof Sums>) into[k] += s[k];
}
const json = (s: Sums) => ({
  requests: Number(s.requests),
  neurons: Number(s.neurons),
  cached_neurons: Number(s.cached),
  cache_write_neurons: Number(s.cacheWrite),
  synapses: Number(s.synapses),
  reasoning_synapses: Number(s.reasoning),
  cost: nanoToChf(s.cost),
});

/** The answer computed from the events the test sent, without rollups. */
function bruteForce(events: readonly Sent[], keys: ReadonlyArray<string | null>, q: Query, from: number, to: number) {
  const kept = events.filter(
    (e) =>
      e.at >= from &&
      e.at < to &&
      (q.model === null || e.model === q.model) &&
      (q.key === null || e.key === q.key) &&
      (q.endUser === null || e.endUser === q.endUser) &&
      (q.tag === null || (q.tag[0] === 'feature' ? e.feature : e.team) === q.tag[1]),
  );
  const groupValueOf = (e: Sent, dimension: string): string | null => {
    if (dimension === 'model') return e.model;
    if (dimension === 'api_key') return keys[e.key] ?? null;
    if (dimension === 'end_user') return e.endUser;
    return dimension === 'tag:feature' ? e.feature : e.team;
  };
  const windowOf = (at: number): [number, number] => {
    if (q.window === 'all') return [from, to];
    if (q.window === 'month') return [monthStart(at), nextMonth(at)];
    const unit = q.window === 'day' ? DAY : HOUR;
    return [floorTo(at, unit), floorTo(at, unit) + unit];
  };
  const windows = new Map<number, { end: number; groups: Map<string, { values: Array<string | null>; sums: Sums }> }>();
  const totals = zero();
  for (const e of kept) {
    addEvent(totals, e);
    const [start, end] = windowOf(e.at);
    const window = windows.get(start) ?? { end, groups: new Map() };
    windows.set(start, window);
    const values = q.groupBy.map((d) => groupValueOf(e, d));
    const id = JSON.stringify(values);
    const group = window.groups.get(id) ?? { values, sums: zero() };
    window.groups.set(id, group);
    addEvent(group.sums, e);
  }
  const byCost = (a: Sums, b: Sums) =>
    a.cost !== b.cost ? (a.cost > b.cost ? -1 : 1) : a.requests !== b.requests ? (a.requests > b.requests ? -1 : 1) : 0;
  const byValues = (a: Array<string | null>, b: Array<string | null>) => {
    for (let i = 0; i < a.length; i++) {
      if (a[i] === b[i]) continue;
      if (a[i] === null) return 1;
      if (b[i] === null) return -1;
      return a[i]! < b[i]! ? -1 : 1;
    }
    return 0;
  };
  const rows = [];
  for (const start of [...windows.keys()].sort((a, b) => a - b)) {
    const { end, groups } = windows.get(start)!;
    const sorted = [...groups.values()].sort((a, b) => byCost(a.sums, b.sums) || byValues(a.values, b.values));
    const shown = sorted.slice(0, q.limit).map((g) => ({ values: g.values, sums: g.sums, other: false }));
    const rest = sorted.slice(q.limit);
    if (rest.length > 0) {
      const sums = zero();
      for (const g of rest) addSums(sums, g.sums);
      const at = shown.findIndex((row) => byCost(sums, row.sums) < 0);
      shown.splice(at < 0 ? shown.length : at, 0, { values: q.groupBy.map(() => null), sums, other: true });
    }
    for (const row of shown) {
      rows.push({
        start: iso(start),
        end: iso(end),
        group: Object.fromEntries(q.groupBy.map((d, i) => [d, row.values[i]])),
        other: row.other,
        ...json(row.sums),
      });
    }
  }
  return { rows, totals: json(totals) };
}
