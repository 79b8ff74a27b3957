/**
 * Prices beyond neurons and synapses, and prices of one organization: a model's cache prices
 * (falling back to its neuron price), an organization's own price taking precedence from its
 * effective time on (one millisecond before it the platform's applies), the sheet an
 * organization gets, and repricing with an organization's price. Through the HTTP API.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { checkRollups } from '../src/modules/rollups/check.ts';
import { toBigInt } from '../src/storage/values.ts';
import { assertEnvelope, type EventInput, forEachDialect, makeApiKey, makeOrg } from './harness.ts';
import { tableContents } from './table-contents.ts';

const MODEL = 'acme-negotiated';
const T = '2025-11-10T12:00:00.000Z';
const BEFORE_T = '2025-11-10T11:59:59.999Z';

forEachDialect('cache prices and organization prices', (server) => {
  let orgA: string;
  let orgB: string;
  let orgC: string;
  let keyA: Awaited<ReturnType<typeof makeApiKey>>;
  let keyB: Awaited<ReturnType<typeof makeApiKey>>;

  const admin = (method: string, url: string, body?: unknown) =>
    server().request(method, url, { key: server().adminKey, body });
  const event = (organization_id: string, id: string, fields: Partial<EventInput>): EventInput => ({
    id,
    organization_id,
    model: MODEL,
    neurons: 1000,
    cached_neurons: 500,
    synapses: 100,
    timestamp: T,
    ...fields,
  });
  const ingest = async (events: EventInput[]) => {
    const response = await server().request('POST', '/v1/usage/events', { key: server().adminKey, body: { events } });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body.unpriced, []);
  };
  const storedCost = async (organizationId: string, id: string) => {
    const row = await server()
      .storage.db.selectFrom('usage_events')
      .select(['cost_nano', 'cost_source'])
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return [toBigInt(row.cost_nano), row.cost_source];
  };

  before(async () => {
    orgA = (await makeOrg(server())).id;
    orgB = (await makeOrg(server())).id;
    orgC = (await makeOrg(server())).id;
    keyA = await makeApiKey(server(), orgA, { scopes: ['read:usage'] });
    keyB = await makeApiKey(server(), orgB, { scopes: ['read:usage'] });
    const platform = await admin('PUT', `/v1/pricing/models/${MODEL}`, {
      neurons_chf_per_million: 8,
      synapses_chf_per_million: 80,
      cached_neurons_chf_per_million: '0.8',
      effective_from: '2025-01-01T00:00:00Z',
    });
    assert.equal(platform.status, 200, platform.text);
    assert.deepEqual(platform.body, {
      model: MODEL,
      pattern: false,
      neurons_chf_per_million: 8,
      synapses_chf_per_million: 80,
      cached_neurons_chf_per_million: 0.8,
      effective_from: '2025-01-01T00:00:00Z',
    });
  });

  it("adds an organization's own price for platform admins", async () => {
    const response = await admin('PUT', `/v1/pricing/organizations/${orgA}/models/${MODEL}`, {
      neurons_chf_per_million: '4',
      synapses_chf_per_million: 40,
      cache_write_neurons_chf_per_million: 5,
      effective_from: T,
    });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, {
      organization_id: orgA,
      model: MODEL,
      pattern: false,
      neurons_chf_per_million: 4,
      synapses_chf_per_million: 40,
      cache_write_neurons_chf_per_million: 5,
      effective_from: '2025-11-10T12:00:00Z',
      source: 'organization',
    });
  });

  it('prices an event one millisecond before the effective time from the platform, and at it from the organization', async () => {
    await ingest([
      event(orgA, 'a-before', { timestamp: BEFORE_T }),
      event(orgA, 'a-at', {}),
      event(orgA, 'a-write', { cached_neurons: 0, cache_write_neurons: 200, synapses: 0 }),
      event(orgB, 'b-at', {}),
      event(orgA, 'a-plain', { cached_neurons: undefined, synapses: 0, neurons: 1_000_000 }),
    ]);
    // Platform: 500 × 8 + 500 × 0.8 (its cached price) + 100 × 80 CHF per 1M = 0.0124 CHF.
    assert.deepEqual(await storedCost(orgA, 'a-before'), [12_400_000n, 'sheet']);
    // The organization's price has no cached price: cached neurons cost its neuron price, 4.
    // 500 × 4 + 500 × 4 + 100 × 40 = 0.008 CHF.
    assert.deepEqual(await storedCost(orgA, 'a-at'), [8_000_000n, 'sheet']);
    // 800 × 4 + 200 × 5 (its cache-write price) = 0.0042 CHF.
    assert.deepEqual(await storedCost(orgA, 'a-write'), [4_200_000n, 'sheet']);
    assert.deepEqual(await storedCost(orgA, 'a-plain'), [4_000_000_000n, 'sheet']);
    // Another organization's event at the same time: the platform's price.
    assert.deepEqual(await storedCost(orgB, 'b-at'), [12_400_000n, 'sheet']);
  });

  it('shows the sheet an organization gets, each price with its source', async () => {
    const sheetAt = async (at: string, key = keyA.secret) => {
      const response = await server().request('GET', `/v1/pricing?organization_id=${orgA}&at=${at}`, { key });
      assert.equal(response.status, 200, response.text);
      assert.equal(response.body.organization_id, orgA);
      return response.body.models as Array<Record<string, unknown>>;
    };
    const at = await sheetAt(T);
    assert.deepEqual(
      at.find((m) => m.model === MODEL),
      {
        model: MODEL,
        pattern: false,
        neurons_chf_per_million: 4,
        synapses_chf_per_million: 40,
        cache_write_neurons_chf_per_million: 5,
        effective_from: '2025-11-10T12:00:00Z',
        source: 'organization',
      },
    );
    assert.equal(at.find((m) => m.model === 'gpt-4o')?.source, 'platform');
    const before = (await sheetAt(BEFORE_T)).find((m) => m.model === MODEL);
    assert.equal(before?.source, 'platform');
    assert.equal(before?.cached_neurons_chf_per_million, 0.8);
    // The platform's own sheet is unchanged and says nothing of sources.
    const platform = await server().request('GET', `/v1/pricing?at=${T}`, { key: keyA.secret });
    const model = platform.body.models.find((m: { model: string }) => m.model === MODEL);
    assert.equal(model.neurons_chf_per_million, 8);
    assert.equal('source' in model, false);
    assert.equal('organization_id' in platform.body, false);
  });

  it("refuses another organization's sheet, an unknown organization, and a malformed id", async () => {
    const other = await server().request('GET', `/v1/pricing?organization_id=${orgA}`, { key: keyB.secret });
    assertEnvelope(assert, other, 403, 'ORGANIZATION_ACCESS_DENIED');
    const unknown = await admin('GET', '/v1/pricing?organization_id=org_nobody');
    assertEnvelope(assert, unknown, 404, 'ORGANIZATION_NOT_FOUND');
    const malformed = await admin('GET', '/v1/pricing?organization_id=nobody');
    assertEnvelope(assert, malformed, 400, 'INVALID_REQUEST');
    assert.match(malformed.body.error.system_message, /organization_id/);
  });

  it('rejects bad organization prices with the errors of the platform route, and writes nothing', async () => {
    const before = await tableContents(server());
    const unknown = await admin('PUT', `/v1/pricing/organizations/org_nobody/models/${MODEL}`, {
      neurons_chf_per_million: 1,
      synapses_chf_per_million: 1,
    });
    assertEnvelope(assert, unknown, 404, 'ORGANIZATION_NOT_FOUND');
    const tooPrecise = await admin('PUT', `/v1/pricing/organizations/${orgA}/models/${MODEL}`, {
      neurons_chf_per_million: 1,
      synapses_chf_per_million: 1,
      cached_neurons_chf_per_million: '0.0000000000001',
    });
    assertEnvelope(assert, tooPrecise, 400, 'INVALID_REQUEST');
    assert.match(tooPrecise.body.error.system_message, /cached_neurons_chf_per_million/);
    const negative = await admin('PUT', `/v1/pricing/models/${MODEL}`, {
      neurons_chf_per_million: 1,
      synapses_chf_per_million: 1,
      cache_write_neurons_chf_per_million: -1,
    });
    assertEnvelope(assert, negative, 400, 'INVALID_REQUEST');
    assert.match(negative.body.error.system_message, /cache_write_neurons_chf_per_million/);
    const byOrgKey = await server().request('PUT', `/v1/pricing/organizations/${orgA}/models/${MODEL}`, {
      key: keyA.secret,
      body: { neurons_chf_per_million: 0, synapses_chf_per_million: 0 },
    });
    assertEnvelope(assert, byOrgKey, 403, 'INSUFFICIENT_PERMISSIONS');
    assert.deepEqual(await tableContents(server()), before);
  });

  it("reprices with an organization's price, leaving other organizations and stated costs alone", async () => {
    await ingest([
      event(orgC, 'c1', { timestamp: '2025-10-05T00:00:00Z' }),
      event(orgC, 'c2', { timestamp: '2025-10-06T00:00:00Z', cached_neurons: 0 }),
      event(orgC, 'c3', { timestamp: '2025-10-06T00:00:00Z', cost: '0.5' }),
    ]);
    assert.deepEqual(await storedCost(orgC, 'c1'), [12_400_000n, 'sheet']);
    const put = await admin('PUT', `/v1/pricing/organizations/${orgC}/models/${MODEL}`, {
      neurons_chf_per_million: 2,
      synapses_chf_per_million: 20,
      cached_neurons_chf_per_million: '0.2',
      effective_from: '2025-10-01T00:00:00Z',
    });
    assert.equal(put.status, 200, put.text);
    const before = await Promise.all([
      storedCost(orgA, 'a-before'),
      storedCost(orgA, 'a-at'),
      storedCost(orgB, 'b-at'),
    ]);
    const response = await admin('POST', '/v1/pricing/reprice', { model: MODEL });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.body.changed, 2);
    // 500 × 2 + 500 × 0.2 + 100 × 20 = 0.0031 CHF; without cached neurons 1000 × 2 + 100 × 20 = 0.004.
    assert.deepEqual(await storedCost(orgC, 'c1'), [3_100_000n, 'sheet']);
    assert.deepEqual(await storedCost(orgC, 'c2'), [4_000_000n, 'sheet']);
    assert.deepEqual(await storedCost(orgC, 'c3'), [500_000_000n, 'reported']);
    assert.deepEqual(
      await Promise.all([storedCost(orgA, 'a-before'), storedCost(orgA, 'a-at'), storedCost(orgB, 'b-at')]),
      before,
    );
    const summary = await admin('GET', `/v1/analytics/usage/summary/${orgC}`);
    assert.equal(summary.body.totalCost, 0.5071);
    for (const org of [orgA, orgB, orgC]) {
      assert.deepEqual((await checkRollups(server().storage.db, org)).differences, []);
    }
  });
});
