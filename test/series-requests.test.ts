/**
 * The time-series routes' parameters: bad input is a 400 naming the parameter, an unknown
 * organization is a 404 for a platform admin, and the top-keys ranking with its ties and limit.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { assertEnvelope, forEachDialect, ingest, makeApiKey, makeOrg } from './harness.ts';

forEachDialect('time-series requests', (server) => {
  let orgId: string;
  let key: string;

  before(async () => {
    orgId = (await makeOrg(server())).id;
    key = (await makeApiKey(server(), orgId, { scopes: ['read:usage'] })).secret;
  });

  describe('rejects bad parameters with a 400 naming them', () => {
    const cases: Array<[string, (org: string) => string, string]> = [
      ['daily month=13', (o) => `/v1/analytics/usage/daily/${o}?month=13`, 'month'],
      ['daily month=1.5', (o) => `/v1/analytics/usage/daily/${o}?month=1.5`, 'month'],
      ['daily year=abc', (o) => `/v1/analytics/usage/daily/${o}?year=abc`, 'year'],
      ['daily year=2031', (o) => `/v1/analytics/usage/daily/${o}?year=2031`, 'year'],
      ['monthly months=0', (o) => `/v1/analytics/usage/monthly/${o}?months=0`, 'months'],
      ['monthly months=25', (o) => `/v1/analytics/usage/monthly/${o}?months=25`, 'months'],
      ['monthly months=x', (o) => `/v1/analytics/usage/monthly/${o}?months=x`, 'months'],
      ['yearly years=11', (o) => `/v1/analytics/usage/yearly/${o}?years=11`, 'years'],
      ['yearly years=2.5', (o) => `/v1/analytics/usage/yearly/${o}?years=2.5`, 'years'],
      ['API-key daily month=0', (o) => `/v1/analytics/api-keys/daily/${o}?month=0`, 'month'],
      ['API-key daily year=1999', (o) => `/v1/analytics/api-keys/daily/${o}?year=1999`, 'year'],
      ['top month=13 in the path', (o) => `/v1/analytics/${o}/api-keys/top/13/2025`, 'month'],
      ['top year=2031 in the path', (o) => `/v1/analytics/${o}/api-keys/top/1/2031`, 'year'],
      ['top year=abc in the path', (o) => `/v1/analytics/${o}/api-keys/top/1/abc`, 'year'],
      ['top limit=0', (o) => `/v1/analytics/${o}/api-keys/top/1/2025?limit=0`, 'limit'],
      ['top limit=101', (o) => `/v1/analytics/${o}/api-keys/top/1/2025?limit=101`, 'limit'],
    ];
    for (const [name, url, parameter] of cases) {
      it(name, async () => {
        const response = await server().request('GET', url(orgId), { key });
        assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
        assert.match(response.body.error.system_message, new RegExp(`\\b${parameter}\\b`));
      });
    }
  });

  describe('answers a platform admin 404 for an unknown organization', () => {
    const urls = [
      '/v1/analytics/usage/daily/org_nosuch',
      '/v1/analytics/usage/monthly/org_nosuch',
      '/v1/analytics/usage/yearly/org_nosuch',
      '/v1/analytics/api-keys/daily/org_nosuch',
      '/v1/analytics/org_nosuch/api-keys/top/1/2025',
    ];
    for (const url of urls) {
      it(url, async () => {
        const response = await server().request('GET', url, { key: server().adminKey });
        assertEnvelope(assert, response, 404, 'ORGANIZATION_NOT_FOUND');
      });
    }
  });

  describe('top API keys ranking', () => {
    let ids: Record<string, string>;

    before(async () => {
      const s = server();
      ids = {};
      for (const name of ['A', 'B', 'C', 'D', 'Idle', 'Gone']) ids[name] = (await makeApiKey(s, orgId, { name })).id;
      let n = 0;
      const at = (day: number) => `2025-11-${String(day).padStart(2, '0')}T10:00:00Z`;
      const use = (apiKey: string | null, cost: string, model = 'gpt-4o', day = 3) => ({
        id: `top-${n++}`,
        organization_id: orgId,
        api_key_id: apiKey,
        model,
        neurons: 2,
        synapses: 3,
        cost,
        timestamp: at(day),
      });
      await ingest(s, [
        // A: 5 CHF, 2 requests over two models; D the same, so id decides between them.
        use(ids.A!, '2', 'gpt-4o'),
        use(ids.A!, '3', 'gpt-4o-mini', 20),
        use(ids.D!, '5'),
        use(ids.D!, '0'),
        // B: 5 CHF in 3 requests beats A and D on requests.
        use(ids.B!, '1'),
        use(ids.B!, '1'),
        use(ids.B!, '3'),
        // C: the most cost.
        use(ids.C!, '7'),
        // A deleted key's usage still counts, under its name.
        use(ids.Gone!, '0.000001'),
        // Web usage is not an API key's.
        use(null, '100'),
        // Another month.
        { ...use(ids.Idle!, '50'), timestamp: '2025-10-31T23:59:59.999Z' },
      ]);
      await s.storage.db.updateTable('api_keys').set({ state: 'deleted' }).where('id', '=', ids.Gone!).execute();
    });

    it('ranks by cost, then requests, then id, and counts every key with usage', async () => {
      const { status, body, text } = await server().request('GET', `/v1/analytics/${orgId}/api-keys/top/11/2025`, {
        key,
      });
      assert.equal(status, 200, text);
      const [first, second] = [ids.A!, ids.D!].sort();
      const names = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
      assert.deepEqual(
        body.top_keys.map((k: any) => [k.key_name, k.total_cost, k.total_requests]),
        [
          ['C', 7, 1],
          ['B', 5, 3],
          [names[first!], 5, 2],
          [names[second!], 5, 2],
          ['Gone', 0.000001, 1],
        ],
      );
      assert.deepEqual(body.top_keys[2], {
        api_key_id: first,
        key_name: names[first!],
        total_requests: 2,
        total_cost: 5,
        total_synapses: 6,
        total_neurons: 4,
      });
      assert.equal(body.total_keys, 5);
      assert.equal(body.limit, 10);
      assert.deepEqual(body.period, {
        type: 'monthly',
        month: 11,
        year: 2025,
        start_date: '2025-11-01',
        end_date: '2025-11-30',
      });
    });

    it('cuts the list at the limit but still counts all keys', async () => {
      const { body } = await server().request('GET', `/v1/analytics/${orgId}/api-keys/top/11/2025?limit=2`, { key });
      assert.deepEqual(
        body.top_keys.map((k: any) => k.key_name),
        ['C', 'B'],
      );
      assert.deepEqual([body.total_keys, body.limit], [5, 2]);
    });

    it('keeps the last millisecond of October in October', async () => {
      const { body } = await server().request('GET', `/v1/analytics/${orgId}/api-keys/top/10/2025`, { key });
      assert.deepEqual(
        body.top_keys.map((k: any) => [k.key_name, k.total_cost]),
        [['Idle', 50]],
      );
      assert.deepEqual(body.period.end_date, '2025-10-31');
    });
  });
});
