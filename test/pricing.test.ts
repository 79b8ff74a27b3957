/**
 * The price sheet end to end: events of a model without a price are stored and listed as
 * unpriced, a price is added (with a change in the middle of the history), the events are
 * repriced, and the three seed endpoints and `verify` agree with the raw events.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { checkRollups } from '../src/modules/rollups/check.ts';
import { rebuildMonth } from '../src/modules/rollups/rebuild.ts';
import { assertEnvelope, type EventInput, forEachDialect, makeApiKey, makeOrg } from './harness.ts';

const MODEL = 'acme-reasoner';

forEachDialect('price sheet, unpriced events and repricing', (server) => {
  let orgId: string;
  let apiKeyId: string;
  let key: string;

  const event = (id: string, fields: Partial<EventInput> & { timestamp: string }): EventInput => ({
    id,
    organization_id: orgId,
    api_key_id: apiKeyId,
    model: MODEL,
    neurons: 0,
    synapses: 0,
    ...fields,
  });
  const admin = (method: string, url: string, body?: unknown) =>
    server().request(method, url, { key: server().adminKey, body });
  const read = (url: string) => server().request('GET', url, { key });

  before(async () => {
    orgId = (await makeOrg(server())).id;
    const apiKey = await makeApiKey(server(), orgId, { scopes: ['read:usage', 'write:usage'] });
    apiKeyId = apiKey.id;
    key = apiKey.secret;
  });

  it('stores events of a model without a price, counts them, and names them in the answer', async () => {
    const response = await server().request('POST', '/v1/usage/events', {
      key,
      body: {
        events: [
          event('e1', { neurons: 1000, synapses: 200, timestamp: '2025-10-15T12:00:00Z' }),
          event('e2', {
            model: `${MODEL}-2025-03-01`,
            neurons: 2000,
            synapses: 400,
            timestamp: '2025-10-20T08:00:00Z',
          }),
          event('e3', { api_key_id: null, neurons: 500, synapses: 1000, timestamp: '2025-11-01T00:00:00.000Z' }),
          event('e4', { neurons: 100, synapses: 100, timestamp: '2025-10-31T23:59:59.999Z' }),
          event('e5', { neurons: 10, synapses: 10, cost: '1.25', timestamp: '2025-11-10T10:00:00Z' }),
          event('e6', { model: 'gpt-4o', neurons: 1000, synapses: 1000, timestamp: '2025-11-10T10:00:00Z' }),
          event('e7', { neurons: 1, synapses: 1, timestamp: '2025-11-12T09:30:00Z' }),
        ],
      },
    });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.body.accepted, 7);
    assert.deepEqual([...response.body.unpriced].sort(), ['e1', 'e2', 'e3', 'e4', 'e7']);

    const summary = (await read(`/v1/analytics/usage/summary/${orgId}`)).body;
    assert.equal(summary.totalRequests, 7);
    assert.equal(summary.totalNeurons, 4611);
    // Only the stated cost (1.25) and gpt-4o from the default sheet (1000 × 8.00 + 1000 × 80.00 per 1M).
    assert.equal(summary.totalCost, 1.338);
  });

  it('lists the unpriced models with first and last use, for admins', async () => {
    const response = await admin('GET', '/v1/pricing/unpriced');
    assert.equal(response.status, 200, response.text);
    const ours = response.body.models.filter((m: { model: string }) => m.model.startsWith(MODEL));
    assert.deepEqual(ours, [
      {
        model: MODEL,
        first_seen: '2025-10-15T12:00:00Z',
        last_seen: '2025-11-12T09:30:00Z',
        event_count: 4,
        organization_count: 1,
      },
      {
        model: `${MODEL}-2025-03-01`,
        first_seen: '2025-10-20T08:00:00Z',
        last_seen: '2025-10-20T08:00:00Z',
        event_count: 1,
        organization_count: 1,
      },
    ]);
  });

  it('adds prices from a time on, and shows the sheet in force at any time', async () => {
    const first = await admin('PUT', `/v1/pricing/models/${MODEL}`, {
      neurons_chf_per_million: 8,
      synapses_chf_per_million: '2.50',
      effective_from: '2025-01-01T00:00:00Z',
    });
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body, {
      model: MODEL,
      pattern: false,
      neurons_chf_per_million: 8,
      synapses_chf_per_million: 2.5,
      effective_from: '2025-01-01T00:00:00Z',
    });
    const change = await admin('PUT', `/v1/pricing/models/${MODEL}`, {
      neurons_chf_per_million: '8.00',
      synapses_chf_per_million: 3,
      effective_from: '2025-11-01T00:00:00Z',
    });
    assert.equal(change.status, 200, change.text);

    const at = async (time: string) => {
      const response = await read(`/v1/pricing?at=${time}`);
      assert.equal(response.status, 200, response.text);
      return response.body.models.find((m: { model: string }) => m.model === MODEL)?.synapses_chf_per_million;
    };
    assert.equal(await at('2024-12-31T23:59:59Z'), undefined);
    assert.equal(await at('2025-10-31T23:59:59Z'), 2.5);
    assert.equal(await at('2025-11-01T00:00:00Z'), 3);
    // A leap second is the last millisecond of its minute, still before the change.
    assert.equal(await at('2025-10-31T23:59:60Z'), 2.5);
    const now = await read('/v1/pricing');
    assert.match(
      now.text,
      /"model":"gpt-4o","pattern":false,"neurons_chf_per_million":8\.0,"synapses_chf_per_million":80\.0/,
    );
  });

  it('rejects bad input with a 400 that names the parameter, and writes nothing', async () => {
    const badAt = await read('/v1/pricing?at=yesterday');
    assertEnvelope(assert, badAt, 400, 'INVALID_REQUEST');
    assert.match(badAt.body.error.system_message, /\bat\b/);
    const tooPrecise = await admin('PUT', '/v1/pricing/models/never-stored', {
      neurons_chf_per_million: '1.0000000000001',
      synapses_chf_per_million: 1,
    });
    assertEnvelope(assert, tooPrecise, 400, 'INVALID_REQUEST');
    assert.match(tooPrecise.body.error.system_message, /neurons_chf_per_million/);
    const missing = await admin('PUT', '/v1/pricing/models/never-stored', { neurons_chf_per_million: 1 });
    assertEnvelope(assert, missing, 400, 'INVALID_REQUEST');
    assert.match(missing.body.error.system_message, /synapses_chf_per_million/);
    const sheet = (await read('/v1/pricing')).body.models.map((m: { model: string }) => m.model);
    assert.equal(sheet.includes('never-stored'), false);
    const backwards = await admin('POST', '/v1/pricing/reprice', {
      model: MODEL,
      from: '2025-11-01T00:00:00Z',
      to: '2025-10-01T00:00:00Z',
    });
    assertEnvelope(assert, backwards, 400, 'INVALID_REQUEST');
    assert.match(backwards.body.error.system_message, /\bto\b/);
  });

  it('reprices the stored events and rebuilds the rollups of the changed months', async () => {
    const response = await admin('POST', '/v1/pricing/reprice', { model: MODEL });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, {
      models: [MODEL, `${MODEL}-2025-03-01`],
      months: [202510, 202511],
      examined: 5,
      changed: 5,
      unpriced: 0,
      skipped: 0,
    });
    const unpriced = (await admin('GET', '/v1/pricing/unpriced')).body.models;
    assert.deepEqual(
      unpriced.filter((m: { model: string }) => m.model.startsWith(MODEL)),
      [],
    );
    const again = await admin('POST', '/v1/pricing/reprice', { model: MODEL });
    assert.equal(again.body.changed, 0);
  });

  it('shows the corrected totals on the three seed endpoints', async () => {
    // e1 8.5e6 + e2 17e6 + e4 1.05e6 (October, 2.50 per 1M synapses); e3 7e6 + e7 11e3
    // (November, 3.00, e3 exactly at the change); e5 keeps its stated 1.25 CHF.
    const summary = (await read(`/v1/analytics/usage/summary/${orgId}`)).body;
    assert.equal(summary.totalRequests, 7);
    assert.equal(summary.totalCost, 1.371561);
    const reasoner = summary.topModels.find((m: { model: string }) => m.model === MODEL);
    assert.deepEqual(reasoner, { model: MODEL, cost: 1.266561, requests: 5, percentage: 92.34 });

    const november = (await read(`/v1/analytics/api-keys/summary/${orgId}?year=2025&month=11`)).body;
    assert.equal(november.totalApiKeyRequests, 3);
    assert.equal(november.totalApiKeyCost, 1.338011);

    const october = (await read(`/v1/analytics/api-keys/usage/${orgId}/${apiKeyId}?month=10&year=2025`)).body;
    assert.equal(october.usage.totalRequests, 3);
    assert.equal(october.usage.totalCost, 0.02655);
  });

  it('verify finds no difference between the rollups and the raw events', async () => {
    const check = await checkRollups(server().storage.db, orgId);
    assert.deepEqual(check.differences, []);
    assert.equal(check.monthsChecked, 2);
  });

  it('verify reports a rollup that disagrees with the events', async () => {
    await server()
      .storage.db.updateTable('rollup_key_day')
      .set({ cost_nano: 1n })
      .where('organization_id', '=', orgId)
      .where('day', '=', 20251112)
      .execute();
    const check = await checkRollups(server().storage.db, orgId);
    assert.deepEqual(
      check.differences.map((d) => [d.table, d.key, d.stored?.costNano, d.expected?.costNano]),
      [['rollup_key_day', `${orgId}/20251112/${apiKeyId}`, 1n, 11_000n]],
    );

    await server().storage.transaction((trx) => rebuildMonth(trx, { year: 2025, month: 11 }, [orgId]));
    assert.deepEqual((await checkRollups(server().storage.db, orgId)).differences, []);
  });
});
