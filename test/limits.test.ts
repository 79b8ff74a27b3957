/** Spend limits over HTTP: the three tiers, their statuses, atomic updates, and the monthly reset. */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { assertEnvelope, forEachDialect, ingest, makeApiKey, makeOrg } from './harness.ts';

const NOW = Date.now();
const thisMonth = new Date(NOW);
const YEAR = thisMonth.getUTCFullYear();
const MONTH = thisMonth.getUTCMonth() + 1;
const lastMonthTime = new Date(Date.UTC(YEAR, MONTH - 2, 15)).toISOString();

forEachDialect('usage limits', (server) => {
  let orgId: string;
  let keyA: { id: string; secret: string };
  let keyB: { id: string; secret: string };
  let reader: string;
  const limitsUrl = () => `/v1/analytics/usage/limits/${orgId}`;
  const get = (query = '') => server().request('GET', `${limitsUrl()}${query}`, { key: reader });
  const put = (body: unknown, key = server().adminKey) => server().request('PUT', limitsUrl(), { key, body });

  before(async () => {
    orgId = (await makeOrg(server())).id;
    keyA = await makeApiKey(server(), orgId, { name: 'A' });
    keyB = await makeApiKey(server(), orgId, { name: 'B' });
    await makeApiKey(server(), orgId, { name: 'C, no limit' });
    reader = (await makeApiKey(server(), orgId, { scopes: ['read:usage'] })).secret;
    const event = (id: string, apiKeyId: string | null, cost: string, timestamp?: string) => ({
      id,
      organization_id: orgId,
      api_key_id: apiKeyId,
      model: 'gpt-4o',
      neurons: 10,
      synapses: 10,
      cost,
      ...(timestamp ? { timestamp } : {}),
    });
    await ingest(server(), [
      event('a1', keyA.id, '40.5'),
      event('b1', keyB.id, '19.5'),
      event('web', null, '20'),
      event('old', keyA.id, '1000', lastMonthTime), // last month: does not count now
    ]);
  });

  it('reports no limits at first', async () => {
    const response = await get();
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, {
      organization_id: orgId,
      month: MONTH,
      year: YEAR,
      organization_limits: { monthly_limit: null, spent: 80, remaining: null, utilization: null, status: 'no_limit' },
      api_limits: null,
      api_key_limits: [],
      summary: { total_keys: 4, keys_with_limits: 0, overall_status: 'no_limit' },
    });
    assert.match(response.text, /"spent":80\.0/);
  });

  it('sets all three tiers at once and reports spend of this month against each', async () => {
    const updated = await put({
      monthly_api_limit: 100,
      total_api_key_limit: '75',
      api_key_id: keyA.id,
      api_key_limit: 50,
    });
    assert.equal(updated.status, 200, updated.text);
    assert.deepEqual(updated.body, {
      success: true,
      message: 'Limits updated',
      updated_limits: { monthly_api_limit: 100, total_api_key_limit: 75, api_key_id: keyA.id, api_key_limit: 50 },
    });
    const response = await get();
    assert.deepEqual(response.body.organization_limits, {
      monthly_limit: 100,
      spent: 80,
      remaining: 20,
      utilization: 80,
      status: 'warning',
    });
    assert.deepEqual(response.body.api_limits, {
      limit: 75,
      spent: 60,
      remaining: 15,
      utilization: 80,
      status: 'warning',
    });
    assert.deepEqual(response.body.api_key_limits, [
      { id: keyA.id, name: 'A', limit: 50, spent: 40.5, remaining: 9.5, utilization: 81, status: 'warning' },
    ]);
    assert.deepEqual(response.body.summary, { total_keys: 4, keys_with_limits: 1, overall_status: 'warning' });
  });

  it('the overall status is the worst tier', async () => {
    assert.equal((await put({ api_key_id: keyB.id, api_key_limit: '19.5' })).status, 200);
    const response = await get();
    const b = response.body.api_key_limits.find((k: { id: string }) => k.id === keyB.id);
    assert.deepEqual(b, {
      id: keyB.id,
      name: 'B',
      limit: 19.5,
      spent: 19.5,
      remaining: 0,
      utilization: 100,
      status: 'exceeded',
    });
    assert.equal(response.body.summary.overall_status, 'exceeded');
    assert.equal(response.body.summary.keys_with_limits, 2);
  });

  it('reads any month: last month had 1000 CHF on key A, so it is exceeded there', async () => {
    const last = new Date(lastMonthTime);
    const response = await get(`?year=${last.getUTCFullYear()}&month=${last.getUTCMonth() + 1}`);
    const a = response.body.api_key_limits.find((k: { id: string }) => k.id === keyA.id);
    assert.equal(a.spent, 1000);
    assert.equal(a.status, 'exceeded');
    assert.equal(response.body.organization_limits.spent, 1000);
  });

  it("agrees with seed endpoint 3's limit block for every key", async () => {
    const limits = await get();
    for (const entry of limits.body.api_key_limits) {
      const usage = await server().request('GET', `/v1/analytics/api-keys/usage/${orgId}/${entry.id}`, { key: reader });
      assert.deepEqual(usage.body.limit, {
        monthlyLimit: entry.limit,
        utilizationPercentage: entry.utilization,
        remainingBudget: entry.remaining,
        status: entry.status,
      });
      assert.equal(usage.body.usage.totalCost, entry.spent);
    }
  });

  it('refuses total_api_key_limit above monthly_api_limit, given or stored, and writes nothing', async () => {
    const before = (await get()).body;
    for (const [body, field] of [
      [{ monthly_api_limit: 100, total_api_key_limit: 101 }, 'total_api_key_limit'],
      [{ total_api_key_limit: 100.000001 }, 'total_api_key_limit'],
      [{ monthly_api_limit: 74 }, 'monthly_api_limit'],
      [
        { monthly_api_limit: 500, total_api_key_limit: 600, api_key_id: keyA.id, api_key_limit: 1 },
        'total_api_key_limit',
      ],
    ] as const) {
      const response = await put(body);
      assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
      assert.equal(response.body.error.details.errors[0].field, field, response.text);
    }
    assert.deepEqual((await get()).body, before);
  });

  it('rejects bad input with a 400 naming the parameter; an unknown key is 404 and nothing changes', async () => {
    const before = (await get()).body;
    for (const [body, field] of [
      [{}, 'body'],
      [{ monthly_api_limit: 0 }, 'monthly_api_limit'],
      [{ monthly_api_limit: -5 }, 'monthly_api_limit'],
      [{ monthly_api_limit: 'lots' }, 'monthly_api_limit'],
      [{ api_key_limit: 5 }, 'api_key_id'],
      [{ api_key_id: keyA.id }, 'api_key_limit'],
      [{ api_key_id: 'nope', api_key_limit: 5 }, 'api_key_id'],
    ] as const) {
      const response = await put(body);
      assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
      assert.match(response.body.error.system_message, new RegExp(field), response.text);
    }
    const foreign = await makeApiKey(server(), (await makeOrg(server())).id);
    const response = await put({ monthly_api_limit: 1000, api_key_id: foreign.id, api_key_limit: 5 });
    assertEnvelope(assert, response, 404, 'API_KEY_NOT_FOUND');
    assert.equal(response.body.error.details.api_key_id, foreign.id);
    assert.deepEqual((await get()).body, before, 'the organization limit in the same request was not applied');
    assertEnvelope(assert, await get('?month=13'), 400, 'INVALID_REQUEST');
  });

  it('null removes a limit', async () => {
    const response = await put({ total_api_key_limit: null, api_key_id: keyB.id, api_key_limit: null });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body.updated_limits, {
      total_api_key_limit: null,
      api_key_id: keyB.id,
      api_key_limit: null,
    });
    const limits = (await get()).body;
    assert.equal(limits.api_limits, null);
    assert.deepEqual(
      limits.api_key_limits.map((k: { id: string }) => k.id),
      [keyA.id],
    );
  });

  it('PUT needs manage:keys; read:usage alone is 403', async () => {
    assertEnvelope(assert, await put({ monthly_api_limit: 1 }, reader), 403, 'INSUFFICIENT_PERMISSIONS');
    const manager = (await makeApiKey(server(), orgId, { scopes: ['manage:keys'] })).secret;
    assert.equal((await put({ monthly_api_limit: 200 }, manager)).status, 200);
  });
});
