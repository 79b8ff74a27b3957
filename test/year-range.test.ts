/**
 * Every route that takes a year reads the same years events can be dated in: from 2000 (the
 * earliest event time) to 2030 (the contract's last year) or, once later, the year of now + 24 h.
 * Outside that it is a 400 naming the parameter.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { assertEnvelope, forEachDialect, ingest, makeApiKey, makeOrg } from './harness.ts';

let now = Date.now();

type Body = Record<string, any>;
interface YearRoute {
  name: string;
  url: (org: string, key: string, year: number, month: number) => string;
  /** CHF of the month the route reports. */
  cost: (body: Body) => number;
}

const sum = (items: Body[], field: string) => items.reduce((total, item) => total + item[field], 0);

const ROUTES: YearRoute[] = [
  {
    name: 'API-key summary',
    url: (o, _k, y, m) => `/v1/analytics/api-keys/summary/${o}?year=${y}&month=${m}`,
    cost: (b) => b.totalApiKeyCost,
  },
  {
    name: 'API-key usage',
    url: (o, k, y, m) => `/v1/analytics/api-keys/usage/${o}/${k}?month=${m}&year=${y}`,
    cost: (b) => b.usage.totalCost,
  },
  {
    name: 'daily usage',
    url: (o, _k, y, m) => `/v1/analytics/usage/daily/${o}?year=${y}&month=${m}`,
    cost: (b) => sum(b.data, 'total_cost_chf'),
  },
  {
    name: 'API-key daily usage',
    url: (o, _k, y, m) => `/v1/analytics/api-keys/daily/${o}?year=${y}&month=${m}`,
    cost: (b) => sum(b.dailyUsage, 'cost'),
  },
  {
    name: 'top keys (year in the path)',
    url: (o, _k, y, m) => `/v1/analytics/${o}/api-keys/top/${m}/${y}`,
    cost: (b) => sum(b.top_keys, 'total_cost'),
  },
  {
    name: 'limits',
    url: (o, _k, y, m) => `/v1/analytics/usage/limits/${o}?year=${y}&month=${m}`,
    cost: (b) => b.organization_limits.spent,
  },
];

forEachDialect(
  'year parameters',
  (server) => {
    let orgId: string;
    let keyId: string;

    before(async () => {
      now = Date.now();
      orgId = (await makeOrg(server())).id;
      keyId = (await makeApiKey(server(), orgId)).id;
      const event = (id: string, timestamp: string) => ({
        id,
        organization_id: orgId,
        api_key_id: keyId,
        model: 'gpt-4o',
        neurons: 1,
        synapses: 1,
        cost: '2',
        timestamp,
      });
      await ingest(server(), [event('y2000', '2000-01-01T00:00:00Z'), event('y2019', '2019-06-15T12:00:00Z')]);
    });

    const get = (url: string) => server().request('GET', url, { key: server().adminKey });

    for (const route of ROUTES) {
      describe(route.name, () => {
        it('reads months back to 2000, where the earliest events are', async () => {
          for (const [year, month] of [
            [2019, 6],
            [2000, 1],
          ] as const) {
            const response = await get(route.url(orgId, keyId, year, month));
            assert.equal(response.status, 200, response.text);
            assert.equal(route.cost(response.body), 2, response.text);
          }
        });

        it('answers 400 naming the year before 2000 and after the latest year', async () => {
          for (const year of [1999, 2031, 10_000]) {
            const response = await get(route.url(orgId, keyId, year, 1));
            assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
            assert.match(response.body.error.system_message, /\byear must be [<>]= (2000|2030)\b/, response.text);
          }
        });

        it('keeps 2030 readable, and moves past it with the latest time an event can have', async () => {
          const saved = now;
          try {
            assert.equal((await get(route.url(orgId, keyId, 2030, 12))).status, 200);
            now = Date.parse('2030-12-30T23:00:00Z');
            const early = await get(route.url(orgId, keyId, 2031, 1));
            assertEnvelope(assert, early, 400, 'INVALID_REQUEST');
            assert.match(early.body.error.system_message, /\byear must be <= 2030\b/);
            now = Date.parse('2030-12-31T00:00:00Z'); // events may be dated up to 2031-01-01T00:00Z
            assert.equal((await get(route.url(orgId, keyId, 2031, 1))).status, 200);
            const later = await get(route.url(orgId, keyId, 2032, 1));
            assert.match(later.body.error.system_message, /\byear must be <= 2031\b/);
          } finally {
            now = saved;
          }
        });
      });
    }
  },
  { clock: () => now },
);
