/**
 * The series agree with each other and with the seed endpoints, exactly, on seeded random
 * usage: days summed over a month equal the month, months summed equal the year, and API-key
 * days summed equal the API-key summary. Costs are whole micro-CHF, so that every amount is
 * exact at 6 decimals and the sums can be compared to the nano-CHF.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { parseChf } from '../src/money/chf.ts';
import { seededRandom } from '../src/seeded-random.ts';
import { type EventInput, forEachDialect, ingest, makeApiKey, makeOrg, nanoToDecimal } from './harness.ts';

const NOW = Date.parse('2025-03-31T12:00:00Z');
const MONTHS = [
  { year: 2024, month: 11 },
  { year: 2024, month: 12 },
  { year: 2025, month: 1 },
  { year: 2025, month: 2 },
  { year: 2025, month: 3 },
];
const START = Date.UTC(2024, 10, 1);
const END = NOW;

interface Totals {
  requests: number;
  neurons: number;
  synapses: number;
  costNano: bigint;
}
const zero = (): Totals => ({ requests: 0, neurons: 0, synapses: 0, costNano: 0n });
const nano = (chf: number) => parseChf(chf)!;

forEachDialect(
  'time-series consistency',
  (server) => {
    let orgId: string;
    let key: string;
    const expected = new Map<string, { all: Totals; keys: Totals }>();
    const get = async (url: string) => {
      const response = await server().request('GET', url, { key });
      assert.equal(response.status, 200, response.text);
      return response.body;
    };

    before(async () => {
      orgId = (await makeOrg(server())).id;
      key = (await makeApiKey(server(), orgId, { scopes: ['read:usage'] })).secret;
      const keys: string[] = [];
      for (let i = 0; i < 3; i++) keys.push((await makeApiKey(server(), orgId, { name: `k${i}` })).id);
      const next = seededRandom(20250320);
      // Month edges are where off-by-one errors live: a fifth of the events sit on one.
      const edges = MONTHS.flatMap(({ year, month }) => [Date.UTC(year, month - 1, 1), Date.UTC(year, month, 1) - 1]);
      const events: EventInput[] = Array.from({ length: 400 }, (_, i) => {
        const time =
          next() < 0.2 ? edges[Math.floor(next() * edges.length)]! : START + Math.floor(next() * (END - START));
        const apiKey = next() < 0.6 ? keys[Math.floor(next() * keys.length)]! : null;
        const event = {
          id: `r${i}`,
          organization_id: orgId,
          api_key_id: apiKey,
          model: ['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet'][Math.floor(next() * 3)]!,
          neurons: Math.floor(next() * 5000),
          synapses: Math.floor(next() * 5000),
          cost: nanoToDecimal(BigInt(Math.floor(next() * 5_000_000)) * 1000n), // whole micro-CHF
          timestamp: new Date(time).toISOString(),
        };
        const date = new Date(time);
        const month = `${date.getUTCFullYear()}-${date.getUTCMonth() + 1}`;
        if (!expected.has(month)) expected.set(month, { all: zero(), keys: zero() });
        for (const totals of apiKey
          ? [expected.get(month)!.all, expected.get(month)!.keys]
          : [expected.get(month)!.all]) {
          totals.requests += 1;
          totals.neurons += event.neurons;
          totals.synapses += event.synapses;
          totals.costNano += parseChf(event.cost)!;
        }
        return event;
      });
      assert.deepEqual(await ingest(server(), events), { accepted: 400, duplicates: 0 });
    });

    it('sums the days of each month to the month, and to the usage reported', async () => {
      const monthly = await get(`/v1/analytics/usage/monthly/${orgId}?months=${MONTHS.length}`);
      for (const [i, { year, month }] of MONTHS.entries()) {
        const daily = await get(`/v1/analytics/usage/daily/${orgId}?year=${year}&month=${month}`);
        const days = zero();
        for (const day of daily.data) {
          days.requests += day.total_requests;
          days.neurons += day.total_neurons;
          days.synapses += day.total_synapses;
          days.costNano += nano(day.total_cost_chf);
        }
        const entry = monthly.data[i];
        assert.deepEqual([entry.year, entry.month], [year, month]);
        const fromMonth: Totals = {
          requests: entry.total_requests,
          neurons: entry.total_tokens / 10 - entry.total_synapses,
          synapses: entry.total_synapses,
          costNano: nano(entry.total_cost_chf),
        };
        const label = `${year}-${month}`;
        assert.deepEqual(days, fromMonth, label);
        assert.deepEqual(days, expected.get(label)?.all ?? zero(), label);
        assert.equal(daily.totalCost, entry.total_cost_chf, label);
        assert.equal(daily.totalRequests, entry.total_requests, label);
      }
    });

    it('sums the months of each year to the year', async () => {
      const [monthly, yearly] = [
        await get(`/v1/analytics/usage/monthly/${orgId}?months=${MONTHS.length}`),
        await get(`/v1/analytics/usage/yearly/${orgId}?years=2`),
      ];
      for (const entry of yearly.data) {
        const months = monthly.data.filter((m: { year: number }) => m.year === entry.year);
        const sum = (field: string) => months.reduce((total: number, m: any) => total + m[field], 0);
        assert.equal(sum('total_requests'), entry.total_requests);
        assert.equal(sum('total_synapses'), entry.total_synapses);
        assert.equal(sum('total_tokens'), entry.total_tokens);
        assert.equal(
          months.reduce((total: bigint, m: any) => total + nano(m.total_cost_chf), 0n),
          nano(entry.total_cost_chf),
        );
      }
      assert.equal(yearly.totalCost, monthly.totalCost);
      assert.equal(yearly.totalRequests, monthly.totalRequests);
    });

    it('sums the API-key days of each month to the API-key summary, and the top keys too', async () => {
      for (const { year, month } of MONTHS) {
        const label = `${year}-${month}`;
        const daily = await get(`/v1/analytics/api-keys/daily/${orgId}?year=${year}&month=${month}`);
        const seed = await get(`/v1/analytics/api-keys/summary/${orgId}?year=${year}&month=${month}`);
        const days = zero();
        for (const day of daily.dailyUsage) {
          days.requests += day.requests;
          days.neurons += day.neurons;
          days.synapses += day.synapses;
          days.costNano += nano(day.cost);
        }
        const fromSeed: Totals = {
          requests: seed.totalApiKeyRequests,
          neurons: seed.totalNeurons,
          synapses: seed.total_synapses,
          costNano: nano(seed.totalApiKeyCost),
        };
        assert.deepEqual(days, fromSeed, label);
        assert.deepEqual(days, expected.get(label)?.keys ?? zero(), label);
        const { generatedAt: _a, ...summary } = daily.summary;
        const { generatedAt: _b, ...seedSummary } = seed;
        assert.deepEqual(summary, seedSummary, label);

        const top = await get(`/v1/analytics/${orgId}/api-keys/top/${month}/${year}?limit=100`);
        const keys = zero();
        for (const k of top.top_keys) {
          keys.requests += k.total_requests;
          keys.neurons += k.total_neurons;
          keys.synapses += k.total_synapses;
          keys.costNano += nano(k.total_cost);
        }
        assert.deepEqual(keys, fromSeed, label);
      }
    });
  },
  { clock: () => NOW },
);
