/**
 * What one organization may use in one UTC month: 1,000,000,000 CHF, 2^53 - 1 neurons and
 * 2^53 - 1 synapses. At the bound every read answers exactly; one nano-CHF, neuron or synapse
 * past it is a 400 naming the organization, the month and the events, and writes nothing; other
 * batches, months and organizations go on. All-time totals may pass 2^63 and still read exactly.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, it } from 'node:test';
import { importFile } from '../src/cli/import.ts';
import { AppError } from '../src/errors.ts';
import { toUsageEvent } from '../src/modules/ingestion/event-input.ts';
import { checkRollups } from '../src/modules/rollups/check.ts';
import { toNumber } from '../src/storage/values.ts';
import type { UsageEvent } from '../src/usage/event.ts';
import {
  assertEnvelope,
  type EventInput,
  forEachDialect,
  ingest,
  makeApiKey,
  makeOrg,
  type TestServer,
} from './harness.ts';

const MAX_UNITS = 2 ** 53 - 1;
const MAX_EVENT_UNITS = 1_000_000_000_000;

async function eventCount(server: TestServer, orgId: string): Promise<number> {
  const row = await server.storage.db
    .selectFrom('usage_events')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('organization_id', '=', orgId)
    .executeTakeFirstOrThrow();
  return toNumber(row.n);
}

/** `count` events of `orgId` in June 2025, spread over its days; `fields(i)` overrides. */
function june(orgId: string, prefix: string, count: number, fields: (i: number) => Partial<EventInput>): EventInput[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    organization_id: orgId,
    model: 'gpt-4o',
    neurons: 0,
    synapses: 0,
    cost: '0',
    timestamp: `2025-06-${String(1 + (i % 28)).padStart(2, '0')}T12:00:00Z`,
    ...fields(i),
  }));
}

forEachDialect('monthly maximum of an organization', (server) => {
  let orgId: string;
  let otherOrgId: string;
  let key: Awaited<ReturnType<typeof makeApiKey>>;
  const get = (url: string) => server().request('GET', url, { key: server().adminKey });
  const post = (events: EventInput[]) =>
    server().request('POST', '/v1/usage/events', { key: server().adminKey, body: { events } });

  before(async () => {
    orgId = (await makeOrg(server())).id;
    otherOrgId = (await makeOrg(server())).id;
    key = await makeApiKey(server(), orgId);
    // 1000 events at 1,000,000 CHF, and 9008 events whose neurons and synapses add up to 2^53 - 1.
    const units = (i: number) => (i < 9007 ? MAX_EVENT_UNITS : MAX_UNITS - 9007 * MAX_EVENT_UNITS);
    await ingest(
      server(),
      june(orgId, 'full', 9008, (i) => ({
        api_key_id: key.id,
        cost: i < 1000 ? '1000000' : '0',
        neurons: units(i),
        synapses: units(i),
      })),
    );
  });

  it('takes a month to exactly the bound and reads it back exactly on every route', async () => {
    const summary = (await get(`/v1/analytics/usage/summary/${orgId}`)).body;
    assert.equal(summary.totalCost, 1_000_000_000);
    assert.equal(summary.totalNeurons, MAX_UNITS);
    assert.equal(summary.total_synapses, MAX_UNITS);
    assert.equal(summary.totalRequests, 9008);
    assert.deepEqual(summary.topModels, [{ model: 'gpt-4o', cost: 1_000_000_000, requests: 9008, percentage: 100 }]);

    const keys = (await get(`/v1/analytics/api-keys/summary/${orgId}?year=2025&month=6`)).body;
    assert.equal(keys.totalApiKeyCost, 1_000_000_000);
    assert.equal(keys.totalNeurons, MAX_UNITS);
    const usage = (await get(`/v1/analytics/api-keys/usage/${orgId}/${key.id}?year=2025&month=6`)).body.usage;
    assert.deepEqual(usage, {
      totalRequests: 9008,
      totalCost: 1_000_000_000,
      totalSynapses: MAX_UNITS,
      totalNeurons: MAX_UNITS,
      averageCostPerRequest: 111_012.43,
    });

    const daily = (await get(`/v1/analytics/usage/daily/${orgId}?year=2025&month=6`)).body;
    assert.equal(daily.totalCost, 1_000_000_000);
    const days = daily.data as Array<{ total_neurons: number; total_cost_chf: number }>;
    assert.equal(
      days.reduce((sum, day) => sum + BigInt(day.total_neurons), 0n),
      BigInt(MAX_UNITS),
    );
    const limits = (await get(`/v1/analytics/usage/limits/${orgId}?year=2025&month=6`)).body;
    assert.equal(limits.organization_limits.spent, 1_000_000_000);
    assert.deepEqual((await checkRollups(server().storage.db, orgId)).differences, []);
  });

  it('refuses one nano-CHF, neuron or synapse past the bound, naming the month, and writes nothing', async () => {
    const before = await eventCount(server(), orgId);
    const past: Array<[Partial<EventInput>, string]> = [
      [{ cost: '0.000000001' }, 'cost'],
      [{ neurons: 1 }, 'neurons'],
      [{ synapses: 1 }, 'synapses'],
    ];
    for (const [fields, field] of past) {
      const response = await post(june(orgId, `past-${field}`, 1, () => fields));
      assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
      const [error, ...rest] = response.body.error.details.errors;
      assert.deepEqual(rest, []);
      assert.equal(error.index, 0);
      assert.equal(error.field, `events[0].${field}`);
      assert.match(error.reason, new RegExp(`^would take the usage of ${orgId} in 2025-06 past \\d+ (CHF|${field})`));
    }
    // A retry is refused the same way, not stuck on a server error; the CLI import names the line.
    const retry = await post(june(orgId, 'past-cost', 1, () => past[0]![0]));
    assertEnvelope(assert, retry, 400, 'INVALID_REQUEST');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-month-')), 'past.ndjson');
    fs.writeFileSync(
      file,
      june(orgId, 'past-import', 2, (i) => ({ cost: i === 0 ? '1' : '0' }))
        .map((e) => JSON.stringify(e))
        .join('\n'),
    );
    const bad: string[] = [];
    const imported = await importFile(server().ctx, file, {
      format: 'ndjson',
      onBadLine: (line, reason) => bad.push(`${line}: ${reason}`),
    });
    fs.rmSync(path.dirname(file), { recursive: true });
    assert.deepEqual(imported, { accepted: 1, duplicates: 0, badLines: 1, unpriced: new Map() });
    assert.match(bad[0]!, new RegExp(`^1: cost would take the usage of ${orgId} in 2025-06 past 1000000000 CHF`));
    // What adds nothing to the bounded counters still fits, and so does another month.
    const nothing = await post(june(orgId, 'zero', 1, () => ({})));
    assert.equal(nothing.body.accepted, 1, nothing.text);
    const july = await post([
      { ...june(orgId, 'july', 1, () => ({ cost: '1000000' }))[0]!, timestamp: '2025-07-01T00:00:00Z' },
    ]);
    assert.equal(july.body.accepted, 1, july.text);
    assert.equal(await eventCount(server(), orgId), before + 3);
    assert.deepEqual((await checkRollups(server().storage.db, orgId)).differences, []);
  });

  it('refuses an admin batch by the events of the full month only; sent again without them, the rest is stored', async () => {
    const mixed = [
      ...june(otherOrgId, 'other-a', 1, () => ({ cost: '5' })),
      ...june(orgId, 'over', 1, () => ({ cost: '1' })),
      ...june(otherOrgId, 'other-b', 1, () => ({ cost: '7' })),
    ];
    const refused = await post(mixed);
    assertEnvelope(assert, refused, 400, 'INVALID_REQUEST');
    assert.deepEqual(
      refused.body.error.details.errors.map((e: { index: number; field: string }) => [e.index, e.field]),
      [[1, 'events[1].cost']],
    );
    assert.equal(await eventCount(server(), otherOrgId), 0);
    const rest = await post([mixed[0]!, mixed[2]!]);
    assert.deepEqual(rest.body, { success: true, accepted: 2, duplicates: 0, unpriced: [] });
  });

  it('writes the other batches of a group that one batch past the bound fails', async () => {
    const now = Date.now();
    const events = (prefix: string, org: string, cost: string): UsageEvent[] =>
      june(org, prefix, 50, () => ({ cost })).map((input, i) =>
        toUsageEvent(input, i, now, () => assert.fail('valid events')),
      );
    const batches = [
      events('group-1', otherOrgId, '1'),
      events('group-2', otherOrgId, '2'),
      events('group-over', orgId, '1'),
      events('group-3', otherOrgId, '3'),
    ];
    // Submitted together: on SQLite the first is written alone and the rest as one group.
    const results = await Promise.allSettled(
      batches.map((batch) => server().storage.writeBatch({ events: batch, reservations: [], receivedAt: now })),
    );
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value.length : 'rejected')),
      [50, 50, 'rejected', 50],
    );
    assert.ok(!((results[2] as PromiseRejectedResult).reason instanceof AppError));
    assert.equal(await eventCount(server(), otherOrgId), 2 + 150);
    assert.deepEqual((await checkRollups(server().storage.db)).differences, []);
  });
});

forEachDialect('monthly maximum in the budget check and in repricing', (server) => {
  const admin = (method: string, url: string, body?: unknown) =>
    server().request(method, url, { key: server().adminKey, body });

  it('refuses a reservation past the monthly maximum of an organization without limits', async () => {
    const orgId = (await makeOrg(server())).id;
    const now = new Date().toISOString();
    await ingest(
      server(),
      Array.from({ length: 999 }, (_, i) => ({
        id: `spent-${i}`,
        organization_id: orgId,
        model: 'gpt-4o',
        neurons: 0,
        synapses: 0,
        cost: '1000000',
        timestamp: now,
      })),
    );
    const authorize = (estimated_cost: string) =>
      admin('POST', '/v1/usage/authorize', { organization_id: orgId, estimated_cost });
    const last = await authorize('1000000');
    assert.equal(last.status, 200, last.text);
    assert.deepEqual(last.body.remaining_budget, { organization: null, api_keys: null, api_key: null });
    const past = await authorize('0.000001');
    assertEnvelope(assert, past, 429, 'USAGE_LIMIT_EXCEEDED');
    assert.equal(past.body.error.details.tier, 'organization');
    assert.equal(past.body.error.details.limit, 1_000_000_000);
    assert.equal(past.body.error.details.reserved, 1_000_000);
  });

  it('leaves events as they were when new prices would take their month past the maximum', async () => {
    const orgId = (await makeOrg(server())).id;
    const price = (neurons: string) =>
      admin('PUT', '/v1/pricing/models/bound-model', {
        neurons_chf_per_million: neurons,
        synapses_chf_per_million: 0,
        effective_from: '2025-01-01T00:00:00Z',
      });
    assert.equal((await price('0.9')).status, 200);
    // 1001 events of 10^12 neurons at 0.9 CHF per million: 900,900,000 CHF in March 2025.
    await ingest(
      server(),
      Array.from({ length: 1001 }, (_, i) => ({
        id: `priced-${i}`,
        organization_id: orgId,
        model: 'bound-model',
        neurons: MAX_EVENT_UNITS,
        synapses: 0,
        timestamp: '2025-03-10T00:00:00Z',
      })),
    );
    const cost = async () => (await admin('GET', `/v1/analytics/usage/summary/${orgId}`)).body.totalCost;
    assert.equal(await cost(), 900_900_000);
    assert.equal((await price('1')).status, 200); // 1,001,000,000 CHF: past the maximum
    const refused = await admin('POST', '/v1/pricing/reprice', { model: 'bound-model' });
    assert.equal(refused.status, 200, refused.text);
    assert.equal(refused.body.changed, 0);
    assert.equal(refused.body.skipped, 1001);
    assert.equal(await cost(), 900_900_000);
    assert.equal((await price('0.99')).status, 200); // 990,990,000 CHF
    const repriced = await admin('POST', '/v1/pricing/reprice', { model: 'bound-model' });
    assert.deepEqual([repriced.body.changed, repriced.body.skipped], [1001, 0]);
    assert.equal(await cost(), 990_990_000);
    assert.deepEqual((await checkRollups(server().storage.db, orgId)).differences, []);
  });
});

forEachDialect('all-time totals past 2^63', (server) => {
  let orgId: string;

  before(async () => {
    orgId = (await makeOrg(server())).id;
    // Ten months at 1,000,000,000 CHF: 10^19 nano-CHF of one model, more than a 64-bit sum holds.
    const events: EventInput[] = [];
    for (let month = 1; month <= 10; month++) {
      for (let i = 0; i < 1000; i++) {
        events.push({
          id: `m${month}-${i}`,
          organization_id: orgId,
          model: 'gpt-4o',
          neurons: MAX_EVENT_UNITS,
          synapses: 1,
          cost: '1000000',
          timestamp: `2025-${String(month).padStart(2, '0')}-15T00:00:00Z`,
        });
      }
    }
    await ingest(server(), events);
  });

  it('answers the all-time summary and the yearly series exactly', async () => {
    const get = (url: string) => server().request('GET', url, { key: server().adminKey });
    const summary = await get(`/v1/analytics/usage/summary/${orgId}`);
    assert.equal(summary.status, 200, summary.text);
    assert.equal(summary.body.totalCost, 10_000_000_000);
    assert.equal(summary.body.totalNeurons, 10_000 * MAX_EVENT_UNITS);
    assert.equal(summary.body.totalRequests, 10_000);
    assert.deepEqual(summary.body.topModels[0], {
      model: 'gpt-4o',
      cost: 10_000_000_000,
      requests: 10_000,
      percentage: 100,
    });
    const yearly = await get(`/v1/analytics/usage/yearly/${orgId}?years=10`);
    assert.equal(yearly.status, 200, yearly.text);
    const year = yearly.body.data.find((y: { year: number }) => y.year === 2025);
    assert.equal(year?.total_cost_chf, 10_000_000_000);
    assert.deepEqual((await checkRollups(server().storage.db, orgId)).differences, []);
  });
});
