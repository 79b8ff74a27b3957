/**
 * The three documented endpoints, each fed with usage that reproduces its published example
 * and compared with it field by field (ids and times aside).
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import {
  CHF,
  type EventInput,
  forEachDialect,
  ingest,
  ingestDirect,
  makeApiKey,
  makeOrg,
  splitCost,
  splitUnits,
} from './harness.ts';

/** `count` events of one model whose cost, neurons and synapses add up exactly to the totals. */
function events(
  prefix: string,
  base: Omit<EventInput, 'id' | 'cost' | 'neurons' | 'synapses' | 'timestamp'>,
  count: number,
  totals: { costNano: bigint; neurons: number; synapses: number },
  timeAt: (i: number) => number,
): EventInput[] {
  const costs = splitCost(totals.costNano, count);
  const neurons = splitUnits(totals.neurons, count);
  const synapses = splitUnits(totals.synapses, count);
  return costs.map((cost, i) => ({
    ...base,
    id: `${prefix}-${i}`,
    cost,
    neurons: neurons[i]!,
    synapses: synapses[i]!,
    timestamp: new Date(timeAt(i)).toISOString(),
  }));
}

const DAY = 86_400_000;

forEachDialect('GET /v1/analytics/usage/summary/{org_id}', (server) => {
  const orgId = 'org_abc123';
  const now = Date.now();
  const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
  const history = (i: number) => Date.parse('2024-01-01T00:00:00Z') + (i % 600) * DAY; // before this month
  const thisMonth = (i: number) => monthStart + Math.floor(((now - monthStart) * i) / 5000);
  let key: string;

  before(async () => {
    await makeOrg(server(), { id: orgId });
    key = (await makeApiKey(server(), orgId, { scopes: ['read:usage'] })).secret;
    const org = { organization_id: orgId };
    // 150000 requests, 37500 CHF: gpt-4o 90000 / 22500 (5000 of them this month, 1250.75 CHF),
    // gpt-4o-mini 45000 / 7500, and two smaller models 15000 / 7500.
    const all = [
      ...events(
        '4o-now',
        { ...org, model: 'gpt-4o' },
        5000,
        { costNano: 1_250_750_000_000n, neurons: 50_000, synapses: 2_500_000 },
        thisMonth,
      ),
      ...events(
        '4o',
        { ...org, model: 'gpt-4o' },
        85_000,
        { costNano: 21_249_250_000_000n, neurons: 850_000, synapses: 42_500_000 },
        history,
      ),
      ...events(
        'mini',
        { ...org, model: 'gpt-4o-mini' },
        45_000,
        { costNano: 7_500n * CHF, neurons: 450_000, synapses: 22_500_000 },
        history,
      ),
      ...events(
        'sonnet',
        { ...org, model: 'claude-3-5-sonnet', api_key_id: null },
        8_000,
        { costNano: 4_000n * CHF, neurons: 80_000, synapses: 4_000_000 },
        history,
      ),
      ...events(
        'mistral',
        { ...org, model: 'mistral-large' },
        7_000,
        { costNano: 3_500n * CHF, neurons: 70_000, synapses: 3_500_000 },
        history,
      ),
    ];
    const result = await ingestDirect(server(), all);
    assert.deepEqual(result, { accepted: 150_000, duplicates: 0 });
  });

  it('reproduces the documented example', async () => {
    const response = await server().request('GET', `/v1/analytics/usage/summary/${orgId}`, { key });
    assert.equal(response.status, 200, response.text);
    const body = response.body;
    assert.equal(body.organization_id, orgId);
    assert.equal(body.totalRequests, 150000);
    assert.equal(body.total_synapses, 75000000.0);
    assert.equal(body.totalNeurons, 1500000.0);
    assert.equal(body.totalCost, 37500.0);
    assert.equal(body.averageCostPerRequest, 0.25);
    assert.deepEqual(body.topModels.slice(0, 2), [
      { model: 'gpt-4o', cost: 22500.0, requests: 90000, percentage: 60.0 },
      { model: 'gpt-4o-mini', cost: 7500.0, requests: 45000, percentage: 20.0 },
    ]);
    assert.deepEqual(body.topModels.slice(2), [
      { model: 'claude-3-5-sonnet', cost: 4000, requests: 8000, percentage: 10.67 },
      { model: 'mistral-large', cost: 3500, requests: 7000, percentage: 9.33 },
    ]);
    assert.deepEqual(body.currentMonth, { cost: 1250.75, requests: 5000 });
    assert.deepEqual(body.timeRange, {
      start: '2024-01-01',
      end: new Date().toISOString().slice(0, 10),
      period: 'all_time',
    });
  });

  it('writes the documented floats with a decimal point, as the Freddy API does', async () => {
    const { text } = await server().request('GET', `/v1/analytics/usage/summary/${orgId}`, { key });
    assert.match(
      text,
      /"totalRequests":150000,"total_synapses":75000000\.0,"totalNeurons":1500000\.0,"totalCost":37500\.0,/,
    );
    assert.match(text, /"percentage":60\.0\}/);
  });

  it('lists at most five models', async () => {
    const extra = ['a', 'b', 'c'].map((m, i) => ({
      id: `extra-${m}`,
      organization_id: orgId,
      model: `tiny-${m}`,
      neurons: 1,
      synapses: 1,
      cost: '0',
      timestamp: new Date(history(i)).toISOString(),
    }));
    await ingest(server(), extra);
    const { body } = await server().request('GET', `/v1/analytics/usage/summary/${orgId}`, { key });
    assert.equal(body.topModels.length, 5);
    assert.equal(body.totalRequests, 150003);
  });

  it('starts the time range at creation for an organization without usage', async () => {
    const org = await makeOrg(server());
    const empty = await makeApiKey(server(), org.id);
    const { status, body } = await server().request('GET', `/v1/analytics/usage/summary/${org.id}`, {
      key: empty.secret,
    });
    assert.equal(status, 200);
    assert.deepEqual(body, {
      organization_id: org.id,
      totalRequests: 0,
      total_synapses: 0,
      totalNeurons: 0,
      totalCost: 0,
      averageCostPerRequest: 0,
      topModels: [],
      currentMonth: { cost: 0, requests: 0 },
      timeRange: {
        start: new Date(org.createdAt).toISOString().slice(0, 10),
        end: new Date().toISOString().slice(0, 10),
        period: 'all_time',
      },
    });
  });
});

forEachDialect('GET /v1/analytics/api-keys/summary/{org_id}', (server) => {
  let orgId: string;
  let key: string;

  before(async () => {
    orgId = (await makeOrg(server())).id;
    const keys = [await makeApiKey(server(), orgId), await makeApiKey(server(), orgId, { name: 'second' })];
    key = keys[0]!.secret;
    const nov = (i: number) => Date.parse('2025-11-01T00:00:00Z') + (i % 29) * DAY + i;
    // 25000 programmatic requests in November 2025 (6250 CHF), over two keys…
    const all = [
      ...events(
        'k1',
        { organization_id: orgId, api_key_id: keys[0]!.id, model: 'gpt-4o' },
        15_000,
        { costNano: 4_000n * CHF, neurons: 150_000, synapses: 7_500_000 },
        nov,
      ),
      ...events(
        'k2',
        { organization_id: orgId, api_key_id: keys[1]!.id, model: 'gpt-4o-mini' },
        10_000,
        { costNano: 2_250n * CHF, neurons: 100_000, synapses: 5_000_000 },
        nov,
      ),
      // …and usage that must not count: web usage that month, key usage in the months around it.
      ...events(
        'web',
        { organization_id: orgId, api_key_id: null, model: 'gpt-4o' },
        500,
        { costNano: 999n * CHF, neurons: 7, synapses: 7 },
        nov,
      ),
      ...events(
        'oct',
        { organization_id: orgId, api_key_id: keys[0]!.id, model: 'gpt-4o' },
        10,
        { costNano: 5n * CHF, neurons: 9, synapses: 9 },
        () => Date.parse('2025-10-31T23:59:59.999Z'),
      ),
      ...events(
        'dec',
        { organization_id: orgId, api_key_id: keys[0]!.id, model: 'gpt-4o' },
        10,
        { costNano: 5n * CHF, neurons: 9, synapses: 9 },
        () => Date.parse('2025-12-01T00:00:00.000Z'),
      ),
    ];
    await ingest(server(), all);
  });

  it('reproduces the documented example (programmatic access only)', async () => {
    const response = await server().request('GET', `/v1/analytics/api-keys/summary/${orgId}?year=2025&month=11`, {
      key,
    });
    assert.equal(response.status, 200, response.text);
    const { generatedAt, ...body } = response.body;
    assert.deepEqual(body, {
      organization_id: orgId,
      month: 11,
      year: 2025,
      totalApiKeyRequests: 25000,
      totalApiKeyCost: 6250.0,
      averageCostPerRequest: 0.25,
      total_synapses: 12500000.0,
      totalNeurons: 250000.0,
    });
    assert.match(generatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(generatedAt) - Date.now()) < 60_000);
    assert.match(response.text, /"totalApiKeyCost":6250\.0,/);
  });

  it('counts the events on either side of a month boundary in their own months', async () => {
    const oct = await server().request('GET', `/v1/analytics/api-keys/summary/${orgId}?year=2025&month=10`, {
      key,
    });
    const dec = await server().request('GET', `/v1/analytics/api-keys/summary/${orgId}?year=2025&month=12`, {
      key,
    });
    assert.equal(oct.body.totalApiKeyRequests, 10);
    assert.equal(oct.body.totalApiKeyCost, 5);
    assert.equal(dec.body.totalApiKeyRequests, 10);
    assert.equal(dec.body.totalApiKeyCost, 5);
  });

  it('defaults to the current UTC month', async () => {
    const { body } = await server().request('GET', `/v1/analytics/api-keys/summary/${orgId}`, { key });
    const now = new Date();
    assert.equal(body.year, now.getUTCFullYear());
    assert.equal(body.month, now.getUTCMonth() + 1);
    assert.equal(body.totalApiKeyRequests, 0);
    assert.equal(body.averageCostPerRequest, 0);
  });
});

forEachDialect('GET /v1/analytics/api-keys/usage/{org_id}/{api_key_id}', (server) => {
  let orgId: string;
  let production: Awaited<ReturnType<typeof makeApiKey>>;
  let unlimited: Awaited<ReturnType<typeof makeApiKey>>;

  before(async () => {
    orgId = (await makeOrg(server())).id;
    production = await makeApiKey(server(), orgId, { name: 'Production Key', monthlyLimitNano: 500n * CHF });
    unlimited = await makeApiKey(server(), orgId, { name: 'Batch Key' });
    const nov = (i: number) => Date.parse('2025-11-01T00:00:00Z') + (i % 29) * DAY + i;
    await ingest(server(), [
      ...events(
        'p',
        { organization_id: orgId, api_key_id: production.id, model: 'gpt-4o' },
        1250,
        { costNano: 350_250_000_000n, neurons: 2_500_000, synapses: 125_000 },
        nov,
      ),
      ...events(
        'u',
        { organization_id: orgId, api_key_id: unlimited.id, model: 'gpt-4o' },
        40,
        { costNano: 9n * CHF, neurons: 400, synapses: 40 },
        nov,
      ),
    ]);
  });

  it('reproduces the documented example', async () => {
    const response = await server().request(
      'GET',
      `/v1/analytics/api-keys/usage/${orgId}/${production.id}?month=11&year=2025`,
      {
        key: production.secret,
      },
    );
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, {
      apiKeyId: production.id,
      apiKeyName: 'Production Key',
      organizationId: orgId,
      month: 11,
      year: 2025,
      usage: {
        totalRequests: 1250,
        totalCost: 350.25,
        totalSynapses: 125000,
        totalNeurons: 2500000,
        averageCostPerRequest: 0.28,
      },
      limit: { monthlyLimit: 500.0, utilizationPercentage: 70.05, remainingBudget: 149.75, status: 'ok' },
    });
    assert.match(response.text, /"totalSynapses":125000,"totalNeurons":2500000,/);
    assert.match(response.text, /"monthlyLimit":500\.0,/);
  });

  it('shows no_limit with null numbers for a key without a limit', async () => {
    const { body } = await server().request(
      'GET',
      `/v1/analytics/api-keys/usage/${orgId}/${unlimited.id}?month=11&year=2025`,
      {
        key: production.secret,
      },
    );
    assert.deepEqual(body.limit, {
      monthlyLimit: null,
      utilizationPercentage: null,
      remainingBudget: null,
      status: 'no_limit',
    });
    assert.equal(body.usage.totalRequests, 40);
  });

  it('answers 404 API_KEY_NOT_FOUND naming the key', async () => {
    const response = await server().request('GET', `/v1/analytics/api-keys/usage/${orgId}/apikey_123`, {
      key: production.secret,
    });
    assert.equal(response.status, 404);
    assert.deepEqual(
      { ...response.body, error: { ...response.body.error, trace_id: 'x', timestamp: 'y' } },
      {
        success: false,
        error: {
          code: 'API_KEY_NOT_FOUND',
          message: 'API key not found',
          system_message: 'API key not found',
          type: 'client_error',
          status: 404,
          details: { api_key_id: 'apikey_123' },
          trace_id: 'x',
          timestamp: 'y',
        },
      },
    );
  });

  it("answers 403 for another organization's key as documented", async () => {
    const other = await makeOrg(server());
    const otherKey = await makeApiKey(server(), other.id);
    const response = await server().request('GET', `/v1/analytics/api-keys/usage/${orgId}/${production.id}`, {
      key: otherKey.secret,
    });
    assert.equal(response.status, 403);
    const { trace_id, timestamp, ...error } = response.body.error;
    assert.deepEqual(error, {
      code: 'ORGANIZATION_ACCESS_DENIED',
      message: "You don't have permission to access this API key",
      system_message: 'Authorization error',
      type: 'client_error',
      status: 403,
      details: { api_key_id: production.id, organization_id: orgId },
    });
  });
});
