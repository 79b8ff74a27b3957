/**
 * POST /v1/usage/events: idempotency, whole-batch validation that writes nothing, month
 * boundaries, and the body-level errors every route shares (413, 415, malformed JSON).
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { checkRollups } from '../src/modules/rollups/check.ts';
import { toNumber } from '../src/storage/values.ts';
import {
  assertEnvelope,
  type EventInput,
  forEachDialect,
  ingest,
  makeApiKey,
  makeOrg,
  type TestServer,
} from './harness.ts';

async function storedCounts(server: TestServer, orgId: string) {
  const db = server.storage.db;
  const events = await db
    .selectFrom('usage_events')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('organization_id', '=', orgId)
    .executeTakeFirstOrThrow();
  const rollup = await db
    .selectFrom('rollup_org_model_month')
    .select((eb) => [eb.fn.sum('requests').as('requests'), eb.fn.sum('cost_nano').as('cost')])
    .where('organization_id', '=', orgId)
    .executeTakeFirstOrThrow();
  return {
    events: toNumber(events.n),
    requests: toNumber(rollup.requests ?? 0),
    costNano: BigInt(String(rollup.cost ?? 0)),
  };
}

forEachDialect('POST /v1/usage/events', (server) => {
  let orgId: string;
  let key: Awaited<ReturnType<typeof makeApiKey>>;
  const event = (id: string, extra: Partial<EventInput> = {}): EventInput => ({
    id,
    organization_id: orgId,
    api_key_id: key.id,
    model: 'gpt-4o',
    neurons: 100,
    synapses: 10,
    cost: '0.125',
    timestamp: '2025-11-15T12:00:00Z',
    ...extra,
  });
  const post = (body: unknown, secret = key.secret) =>
    server().request('POST', '/v1/usage/events', { key: secret, body });

  before(async () => {
    orgId = (await makeOrg(server())).id;
    key = await makeApiKey(server(), orgId);
  });

  it('accepts a batch and counts a retried batch once', async () => {
    const batch = { events: [event('a1'), event('a2', { cost: 0.25 }), event('a3', { api_key_id: null })] };
    const first = await post(batch);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body, { success: true, accepted: 3, duplicates: 0, unpriced: [] });
    const retry = await post(batch);
    assert.deepEqual(retry.body, { success: true, accepted: 0, duplicates: 3, unpriced: [] });
    assert.deepEqual(await storedCounts(server(), orgId), { events: 3, requests: 3, costNano: 500_000_000n });
  });

  it('counts the same id twice in one batch once, and a partly known batch in part', async () => {
    const response = await post({ events: [event('b1'), event('b1', { cost: '99' }), event('a1'), event('b2')] });
    assert.deepEqual(response.body, { success: true, accepted: 2, duplicates: 2, unpriced: [] });
    assert.deepEqual(await storedCounts(server(), orgId), { events: 5, requests: 5, costNano: 750_000_000n });
  });

  it('stores ids and models with quotes, backslashes, commas, braces and NULL as sent, and knows them on retry', async () => {
    const awkward = ['q"1', 'b\\1', '\\"', 'c,1', '{b}', 'NULL', 'null', ' s ', "o'1", 'ü€😀'];
    const batch = { events: awkward.map((text, i) => event(`${text}/${i}`, { model: `m ${text}` })) };
    const first = await post(batch);
    assert.deepEqual(first.body, { success: true, accepted: awkward.length, duplicates: 0, unpriced: [] });
    const retry = await post(batch);
    assert.deepEqual(retry.body, { success: true, accepted: 0, duplicates: awkward.length, unpriced: [] });
    const ids = batch.events.map((e) => e.id);
    const { db } = server().storage;
    const stored = await db.selectFrom('usage_events').select(['id', 'model']).where('id', 'in', ids).execute();
    assert.deepEqual(stored.map((row) => [row.id, row.model]).sort(), batch.events.map((e) => [e.id, e.model]).sort());
  });

  it('rejects a batch with one bad event as a whole, listing each bad event, and writes nothing', async () => {
    const before = await storedCounts(server(), orgId);
    const response = await post({
      events: [
        event('c1'),
        event('c2', { neurons: -1 }),
        event('c3'),
        event('c4', { cost: 'ten' }),
        event('c5', { synapses: 1.5 }),
      ],
    });
    assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
    const errors = response.body.error.details.errors as Array<{ index: number; field: string; reason: string }>;
    assert.deepEqual(
      errors.map((e) => [e.index, e.field]),
      [
        [1, 'events[1].neurons'],
        [3, 'events[3].cost'],
        [4, 'events[4].synapses'],
      ],
    );
    assert.match(response.body.error.system_message, /events\[1\]\.neurons must be >= 0/);
    assert.deepEqual(await storedCounts(server(), orgId), before);
  });

  it('rejects references that do not hold, by index, and writes nothing', async () => {
    const other = await makeOrg(server());
    const otherKey = await makeApiKey(server(), other.id);
    const before = await storedCounts(server(), orgId);
    const response = await post(
      {
        events: [
          event('d1'),
          event('d2', { api_key_id: otherKey.id }),
          event('d3', { organization_id: 'org_nosuchorg' }),
          event('d4', { api_key_id: 'apikey_nosuchkey' }),
        ],
      },
      server().adminKey,
    );
    assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
    assert.deepEqual(
      response.body.error.details.errors.map((e: { index: number; reason: string }) => [e.index, e.reason]),
      [
        [1, 'is not an API key of the organization'],
        [2, 'names no known organization'],
        [3, 'is not an API key of the organization'],
      ],
    );
    assert.deepEqual(await storedCounts(server(), orgId), before);
  });

  it("forbids reporting usage for another organization with an organization's key", async () => {
    const other = await makeOrg(server());
    const response = await post({
      events: [event('e1'), event('e2', { organization_id: other.id, api_key_id: null })],
    });
    assertEnvelope(assert, response, 403, 'ORGANIZATION_ACCESS_DENIED');
    assert.equal((await storedCounts(server(), other.id)).events, 0);
  });

  const badBodies: Array<[string, unknown, RegExp]> = [
    ['no events', {}, /events is required/],
    ['an empty batch', { events: [] }, /events must NOT have fewer than 1 items/],
    [
      'more than 1000 events',
      { events: Array.from({ length: 1001 }, (_, i) => ({ id: `x${i}` })) },
      /events must NOT have more than 1000 items/,
    ],
    [
      'neurons as a string',
      { events: [{ id: 'f', organization_id: 'org_a', model: 'm', neurons: '5', synapses: 1, cost: 1 }] },
      /neurons must be integer/,
    ],
    [
      'neurons as a boolean',
      { events: [{ id: 'f', organization_id: 'org_a', model: 'm', neurons: true, synapses: 1, cost: 1 }] },
      /neurons must be integer/,
    ],
    [
      'a negative cost',
      { events: [{ id: 'f', organization_id: 'org_a', model: 'm', neurons: 1, synapses: 1, cost: -0.5 }] },
      /cost must be CHF/,
    ],
    [
      'cost "NaN"',
      { events: [{ id: 'f', organization_id: 'org_a', model: 'm', neurons: 1, synapses: 1, cost: 'NaN' }] },
      /cost must be CHF/,
    ],
    [
      'a huge unit count',
      { events: [{ id: 'f', organization_id: 'org_a', model: 'm', neurons: 1e30, synapses: 1, cost: 1 }] },
      /neurons must be <=/,
    ],
    [
      'a timestamp without zone',
      {
        events: [
          {
            id: 'f',
            organization_id: 'org_a',
            model: 'm',
            neurons: 1,
            synapses: 1,
            cost: 1,
            timestamp: '2025-11-01 10:00',
          },
        ],
      },
      /timestamp must be an ISO-8601 time with a zone/,
    ],
    ['an array body', [1, 2], /body must be object/],
  ];
  for (const [name, body, message] of badBodies) {
    it(`answers 400 for ${name}`, async () => {
      const response = await post(body, server().adminKey);
      assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
      assert.match(response.body.error.system_message, message);
    });
  }

  it('names the one field holding a NUL character, value or key, and writes nothing', async () => {
    const before = await storedCounts(server(), orgId);
    const events = [event('n1'), event('n2'), event('n3', { model: 'gpt-\u00004o' }), event('n4')];
    const response = await post({ events });
    assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
    assert.deepEqual(response.body.error.details.errors, [
      { field: 'events[2].model', reason: 'must not contain NUL characters' },
    ]);
    const withKey = await post({ events: [event('n5'), { ...event('n6'), 'x\u0000': 1 }] });
    assertEnvelope(assert, withKey, 400, 'INVALID_REQUEST');
    assert.deepEqual(withKey.body.error.details.errors, [
      { field: 'events[1]', reason: 'must not contain keys with NUL characters' },
    ]);
    assert.deepEqual(await storedCounts(server(), orgId), before);
  });

  it('rejects a cost above the per-event bound and a timestamp far in the future', async () => {
    const future = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const response = await post({
      events: [event('g1', { cost: '1000000.000000001' }), event('g2', { timestamp: future })],
    });
    assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
    assert.match(
      response.body.error.system_message,
      /events\[0\]\.cost must not exceed 1000000 CHF; events\[1\]\.timestamp must not be more than 24 hours in the future/,
    );
  });

  it('answers 400 for malformed JSON, 415 for another content type, 413 for an oversized body', async () => {
    const malformed = await server().request('POST', '/v1/usage/events', {
      key: key.secret,
      rawBody: '{"events": [',
      headers: { 'content-type': 'application/json' },
    });
    assertEnvelope(assert, malformed, 400, 'INVALID_REQUEST');
    const text = await server().request('POST', '/v1/usage/events', {
      key: key.secret,
      rawBody: 'id=1',
      headers: { 'content-type': 'text/plain' },
    });
    assertEnvelope(assert, text, 415, 'UNSUPPORTED_MEDIA_TYPE');
    const huge = await server().request('POST', '/v1/usage/events', {
      key: key.secret,
      rawBody: JSON.stringify({ events: [event('h1', { model: 'x'.repeat(2 * 1024 * 1024) })] }),
      headers: { 'content-type': 'application/json' },
    });
    assertEnvelope(assert, huge, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('puts the last millisecond of a month and the first of the next into their own months', async () => {
    const boundaryOrg = (await makeOrg(server())).id;
    const boundaryKey = await makeApiKey(server(), boundaryOrg);
    const at = (id: string, timestamp: string, cost: string): EventInput => ({
      id,
      organization_id: boundaryOrg,
      api_key_id: boundaryKey.id,
      model: 'gpt-4o',
      neurons: 1,
      synapses: 1,
      cost,
      timestamp,
    });
    await ingest(server(), [
      at('last', '2025-10-31T23:59:59.999Z', '1.5'),
      at('first', '2025-11-01T00:00:00.000Z', '2.25'),
      at('tz', '2025-11-01T00:30:00+01:00', '4'), // 23:30 UTC on Oct 31
    ]);
    const month = async (m: number) =>
      (
        await server().request(
          'GET',
          `/v1/analytics/api-keys/usage/${boundaryOrg}/${boundaryKey.id}?month=${m}&year=2025`,
          {
            key: boundaryKey.secret,
          },
        )
      ).body.usage;
    assert.deepEqual(await month(10), {
      totalRequests: 2,
      totalCost: 5.5,
      totalSynapses: 2,
      totalNeurons: 2,
      averageCostPerRequest: 2.75,
    });
    assert.deepEqual(await month(11), {
      totalRequests: 1,
      totalCost: 2.25,
      totalSynapses: 1,
      totalNeurons: 1,
      averageCostPerRequest: 2.25,
    });
  });

  it('accepts a leap second as the last millisecond of its day, in any offset; refuses second 60 elsewhere', async () => {
    const leapOrg = (await makeOrg(server())).id;
    const leap = (id: string, timestamp: string): EventInput => ({
      ...event(id, { timestamp, api_key_id: null }),
      organization_id: leapOrg,
    });
    await ingest(server(), [leap('z', '2016-12-31T23:59:60Z'), leap('offset', '2017-01-01T00:59:60.5+01:00')]);
    const stored = await server()
      .storage.db.selectFrom('usage_events')
      .select(['id', 'occurred_at'])
      .where('organization_id', '=', leapOrg)
      .orderBy('id')
      .execute();
    const lastMs = Date.UTC(2016, 11, 31, 23, 59, 59, 999);
    assert.deepEqual(
      stored.map((row) => [row.id, toNumber(row.occurred_at)]),
      [
        ['offset', lastMs],
        ['z', lastMs],
      ],
    );
    const summary = await server().request('GET', `/v1/analytics/usage/summary/${leapOrg}`, { key: server().adminKey });
    assert.equal(summary.body.timeRange.start, '2016-12-31', summary.text);

    const noon = await post({ events: [leap('noon', '2016-12-31T12:00:60Z')] }, server().adminKey);
    assertEnvelope(assert, noon, 400, 'INVALID_REQUEST');
    assert.match(noon.body.error.system_message, /events\[0\]\.timestamp must be an ISO-8601 time with a zone/);
  });

  it('stamps an event without a timestamp with the time it arrives', async () => {
    const nowOrg = (await makeOrg(server())).id;
    await ingest(server(), [{ id: 'now', organization_id: nowOrg, model: 'gpt-4o', neurons: 1, synapses: 1, cost: 3 }]);
    const { body } = await server().request('GET', `/v1/analytics/usage/summary/${nowOrg}`, { key: server().adminKey });
    assert.deepEqual(body.currentMonth, { cost: 3, requests: 1 });
  });

  it('sums costs past 2^53 nano-CHF exactly, within a batch and onto a stored sum', async () => {
    const bigOrg = (await makeOrg(server())).id;
    const big = (id: string, cost: string): EventInput => ({
      id,
      organization_id: bigOrg,
      model: 'gpt-4o',
      neurons: 1,
      synapses: 1,
      cost,
      timestamp: '2025-11-15T12:00:00Z',
    });
    // Ten events of about the largest cost: their sum passes 2^53 (about 9.007e15) within the
    // batch, and is odd, which no double past 2^53 is.
    const first = Array.from({ length: 10 }, (_, i) =>
      big(`max${i}`, i === 0 ? '999999.999999998' : '999999.999999999'),
    );
    await ingest(server(), first);
    assert.deepEqual(await storedCounts(server(), bigOrg), {
      events: 10,
      requests: 10,
      costNano: 9_999_999_999_999_989n,
    });
    // Then amounts of one nano-CHF, added to the stored sum.
    await ingest(server(), [big('n1', '0.000000001'), big('n2', '0.000000001')]);
    assert.deepEqual(await storedCounts(server(), bigOrg), {
      events: 12,
      requests: 12,
      costNano: 9_999_999_999_999_991n,
    });
  });

  it('keeps every rollup row equal to a recomputation from the raw events', async () => {
    const db = server().storage.db;
    // Row by row, each of the three rollups, every month of every organization of this file.
    const check = await checkRollups(db);
    assert.deepEqual(check.differences, []);
    assert.ok(check.monthsChecked > 0);
    // And the totals per organization straight from raw events, for each rollup.
    const raw = await db
      .selectFrom('usage_events')
      .select((eb) => ['organization_id', eb.fn.countAll().as('requests'), eb.fn.sum('cost_nano').as('cost')])
      .groupBy('organization_id')
      .orderBy('organization_id')
      .execute();
    const keyed = await db
      .selectFrom('usage_events')
      .select((eb) => ['organization_id', eb.fn.countAll().as('requests'), eb.fn.sum('cost_nano').as('cost')])
      .where('api_key_id', 'is not', null)
      .groupBy('organization_id')
      .orderBy('organization_id')
      .execute();
    for (const [table, expected] of [
      ['rollup_org_model_month', raw],
      ['rollup_key_day', raw],
      ['rollup_key_model_month', keyed],
    ] as const) {
      const rolled = await db
        .selectFrom(table)
        .select((eb) => ['organization_id', eb.fn.sum('requests').as('requests'), eb.fn.sum('cost_nano').as('cost')])
        .groupBy('organization_id')
        .having((eb) => eb.fn.sum('requests'), '>', 0)
        .orderBy('organization_id')
        .execute();
      assert.deepEqual(
        rolled.map((r) => [r.organization_id, String(r.requests), String(r.cost)]),
        expected.map((r) => [r.organization_id, String(r.requests), String(r.cost)]),
        table,
      );
    }
  });
});
