/**
 * The gateway budget check: tiers, reservations, settlement by usage, expiry, and exactly-N
 * admission under concurrent requests, in process on both engines (two server processes
 * sharing one PostgreSQL: e2e/authorize-processes.test.ts).
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { CompiledQuery, sql } from 'kysely';
import { budgetUsageQuery } from '../src/modules/limits/limits.repository.ts';
import { monthKeyOf } from '../src/time/calendar.ts';
import { assertEnvelope, forEachDialect, makeApiKey, makeOrg, sqliteConnection, type TestServer } from './harness.ts';

const CHF = 1_000_000_000n;
let now = Date.now();

async function setLimits(server: TestServer, orgId: string, body: Record<string, unknown>) {
  const response = await server.request('PUT', `/v1/analytics/usage/limits/${orgId}`, { key: server.adminKey, body });
  assert.equal(response.status, 200, response.text);
}

async function reservationCount(server: TestServer, orgId: string): Promise<number> {
  const rows = await server.storage.db
    .selectFrom('reservations')
    .select('id')
    .where('organization_id', '=', orgId)
    .execute();
  return rows.length;
}

function authorize(server: TestServer, body: Record<string, unknown>, key = server.adminKey) {
  return server.request('POST', '/v1/usage/authorize', { key, body });
}

forEachDialect(
  'POST /v1/usage/authorize',
  (server) => {
    let orgId: string;
    let key: { id: string; secret: string };
    let gateway: string;

    before(async () => {
      orgId = (await makeOrg(server())).id;
      key = await makeApiKey(server(), orgId, { name: 'customer' });
      gateway = (await makeApiKey(server(), orgId, { name: 'gateway', scopes: ['write:usage'] })).secret;
    });

    it('admits without limits and says when the reservation expires', async () => {
      const response = await authorize(
        server(),
        { organization_id: orgId, api_key_id: key.id, estimated_cost: 0.5 },
        gateway,
      );
      assert.equal(response.status, 200, response.text);
      assert.match(response.body.reservation_id, /^rsv_/);
      assert.equal(response.body.allowed, true);
      assert.equal(response.body.estimated_cost, 0.5);
      assert.equal(Date.parse(response.body.expires_at), Math.floor((now + 300_000) / 1000) * 1000);
      assert.deepEqual(response.body.remaining_budget, { organization: null, api_keys: null, api_key: null });
    });

    it('checks the organization, then all keys, then the key, counting open reservations', async () => {
      now += 600_000; // the first test's reservation has expired
      await setLimits(server(), orgId, {
        monthly_api_limit: 10,
        total_api_key_limit: 8,
        api_key_id: key.id,
        api_key_limit: 5,
      });
      const ok = await authorize(server(), { organization_id: orgId, api_key_id: key.id, estimated_cost: '3' });
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(ok.body.remaining_budget, { organization: 7, api_keys: 5, api_key: 2 });

      const keyTier = await authorize(server(), { organization_id: orgId, api_key_id: key.id, estimated_cost: 3 });
      assertEnvelope(assert, keyTier, 429, 'USAGE_LIMIT_EXCEEDED');
      assert.deepEqual(keyTier.body.error.details, {
        tier: 'api_key',
        limit: 5,
        spent: 0,
        reserved: 3,
        estimated_cost: 3,
        organization_id: orgId,
        api_key_id: key.id,
      });
      // Money in details is written as money is everywhere else: with a decimal point.
      const { trace_id: traceId, timestamp } = keyTier.body.error;
      assert.equal(
        keyTier.text,
        '{"success":false,"error":{"code":"USAGE_LIMIT_EXCEEDED","message":"Usage limit exceeded",' +
          '"system_message":"The estimated cost does not fit the api_key monthly limit","type":"usage_limit_error",' +
          `"status":429,"details":{"tier":"api_key","limit":5.0,"spent":0.0,"reserved":3.0,"estimated_cost":3.0,` +
          `"organization_id":"${orgId}","api_key_id":"${key.id}"},"trace_id":"${traceId}","timestamp":"${timestamp}"}}`,
      );

      const other = await makeApiKey(server(), orgId);
      const keysTier = await authorize(server(), { organization_id: orgId, api_key_id: other.id, estimated_cost: 5.5 });
      assertEnvelope(assert, keysTier, 429, 'USAGE_LIMIT_EXCEEDED');
      assert.equal(keysTier.body.error.details.tier, 'api_keys');
      assert.equal(keysTier.body.error.details.limit, 8);
      assert.match(keysTier.text, /"limit":8\.0,"spent":0\.0,"reserved":3\.0,"estimated_cost":5\.5,/);

      const orgTier = await authorize(server(), { organization_id: orgId, api_key_id: null, estimated_cost: 7.5 });
      assertEnvelope(assert, orgTier, 429, 'USAGE_LIMIT_EXCEEDED');
      assert.equal(orgTier.body.error.details.tier, 'organization');
      assert.equal(orgTier.body.error.details.reserved, 3);

      const web = await authorize(server(), { organization_id: orgId, estimated_cost: 7 });
      assert.deepEqual(web.body.remaining_budget, { organization: 0, api_keys: null, api_key: null });
    });

    it("counts each key's spend and reservations at its own tier, every key's at the all-keys tier", async () => {
      const org = (await makeOrg(server())).id;
      const [a, b] = [await makeApiKey(server(), org), await makeApiKey(server(), org)];
      await setLimits(server(), org, {
        monthly_api_limit: 100,
        total_api_key_limit: 50,
        api_key_id: a.id,
        api_key_limit: 10,
      });
      const spend = (id: string, apiKeyId: string | null, cost: string) => ({
        id,
        organization_id: org,
        api_key_id: apiKeyId,
        model: 'gpt-4o',
        neurons: 1,
        synapses: 1,
        cost,
        timestamp: new Date(now).toISOString(),
      });
      const events = [spend('tier-b', b.id, '4'), spend('tier-a', a.id, '2'), spend('tier-web', null, '5')];
      const ingest = await server().request('POST', '/v1/usage/events', { key: server().adminKey, body: { events } });
      assert.equal(ingest.status, 200, ingest.text);
      for (const [apiKeyId, cost] of [
        [b.id, 3],
        [a.id, 1],
      ] as const) {
        const held = await authorize(server(), { organization_id: org, api_key_id: apiKeyId, estimated_cost: cost });
        assert.equal(held.status, 200, held.text);
      }

      const response = await authorize(server(), { organization_id: org, api_key_id: a.id, estimated_cost: 1 });
      assert.equal(response.status, 200, response.text);
      // 100 - spent 11 - held 4 - 1; 50 - spent 6 (keys only) - held 4 - 1; 10 - spent 2 - held 1 - 1.
      assert.deepEqual(response.body.remaining_budget, { organization: 84, api_keys: 39, api_key: 6 });
    });

    it('settles a reservation with the reported cost, once, and frees expired ones', async () => {
      now += 600_000;
      const reserved = await authorize(server(), { organization_id: orgId, api_key_id: key.id, estimated_cost: 4 });
      assert.equal(reserved.status, 200, reserved.text);
      const event = {
        id: `settle-${now}`,
        organization_id: orgId,
        api_key_id: key.id,
        model: 'gpt-4o',
        neurons: 1,
        synapses: 1,
        cost: '1.25',
        reservation_id: reserved.body.reservation_id,
      };
      for (let i = 0; i < 2; i++) {
        const ingest = await server().request('POST', '/v1/usage/events', { key: gateway, body: { events: [event] } });
        assert.equal(ingest.status, 200, ingest.text);
      }
      const settled = await server()
        .storage.db.selectFrom('reservations')
        .select('settled_at')
        .where('id', '=', reserved.body.reservation_id)
        .executeTakeFirstOrThrow();
      assert.notEqual(settled.settled_at, null);
      // 1.25 spent, nothing held: 3.75 left on the key.
      const next = await authorize(server(), { organization_id: orgId, api_key_id: key.id, estimated_cost: 3.75 });
      assert.equal(next.status, 200, next.text);
      assert.deepEqual(next.body.remaining_budget, { organization: 8.75 - 3.75, api_keys: 6.75 - 3.75, api_key: 0 });
      assertEnvelope(
        assert,
        await authorize(server(), { organization_id: orgId, api_key_id: key.id, estimated_cost: 0 }),
        429,
        'USAGE_LIMIT_EXCEEDED',
      );
      now += 300_001;
      const afterExpiry = await authorize(server(), {
        organization_id: orgId,
        api_key_id: key.id,
        estimated_cost: 3.75,
      });
      assert.equal(afterExpiry.status, 200, afterExpiry.text);
    });

    it('rejects bad input with a 400 naming the field, and unknown keys and organizations with 404', async () => {
      for (const [body, field] of [
        [{ api_key_id: key.id, estimated_cost: 1 }, 'organization_id'],
        [{ organization_id: orgId, estimated_cost: -1 }, 'estimated_cost'],
        [{ organization_id: orgId, estimated_cost: 'abc' }, 'estimated_cost'],
        [{ organization_id: orgId }, 'estimated_cost'],
        [{ organization_id: orgId, estimated_cost: 2_000_000 }, 'estimated_cost'],
        [{ organization_id: orgId, api_key_id: 'key_1', estimated_cost: 1 }, 'api_key_id'],
      ] as const) {
        const response = await authorize(server(), body);
        assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
        assert.match(response.body.error.system_message, new RegExp(field), response.text);
      }
      const unknown = await authorize(server(), {
        organization_id: orgId,
        api_key_id: 'apikey_nope',
        estimated_cost: 1,
      });
      assertEnvelope(assert, unknown, 404, 'API_KEY_NOT_FOUND');
      assert.deepEqual(unknown.body.error.details, { api_key_id: 'apikey_nope' });
      assertEnvelope(
        assert,
        await authorize(server(), { organization_id: 'org_nope', estimated_cost: 1 }),
        404,
        'ORGANIZATION_NOT_FOUND',
      );
      assertEnvelope(
        assert,
        await authorize(server(), { organization_id: 'org_nope', estimated_cost: 1 }, gateway),
        403,
        'ORGANIZATION_ACCESS_DENIED',
      );
    });

    it('refuses paused, deactivated, deleted and expired keys as authentication does, reserving nothing', async () => {
      const org = (await makeOrg(server())).id;
      const admin = { key: server().adminKey };
      const cases: Array<[string, string, (id: string) => Promise<unknown>]> = [
        [
          'paused',
          'API_KEY_PAUSED',
          (id) => server().request('POST', `/v1/organizations/${org}/api-keys/${id}/pause`, admin),
        ],
        [
          'deactivated',
          'API_KEY_DEACTIVATED',
          (id) => server().request('POST', `/v1/organizations/${org}/api-keys/${id}/deactivate`, admin),
        ],
        [
          'deleted',
          'INVALID_API_KEY',
          (id) => server().request('DELETE', `/v1/organizations/${org}/api-keys/${id}`, admin),
        ],
        [
          'expired',
          'API_KEY_EXPIRED',
          (id) =>
            server()
              .storage.db.updateTable('api_keys')
              .set({ expires_at: Date.now() - 1000 })
              .where('id', '=', id)
              .execute(),
        ],
      ];
      for (const [state, code, change] of cases) {
        const key = await makeApiKey(server(), org, { name: state, scopes: ['read:usage'] });
        const body = { organization_id: org, api_key_id: key.id, estimated_cost: 1 };
        assert.equal((await authorize(server(), body)).status, 200, `${state}: usable before`);
        await change(key.id);
        const response = await authorize(server(), body);
        assertEnvelope(assert, response, 401, code);
        assert.equal(response.body.error.details?.api_key_id, key.id, state);
        // The same code the key itself gets when it authenticates.
        const own = await server().request('GET', `/v1/analytics/usage/summary/${org}`, { key: key.secret });
        assertEnvelope(assert, own, 401, code);
      }
      assert.equal(await reservationCount(server(), org), 4, 'only the four checks made before');
    });

    it('deletes reservations that ended over an hour ago, and keeps the rest', async () => {
      const org = (await makeOrg(server())).id;
      const budgeted = await makeApiKey(server(), org, { monthlyLimitNano: 10n * CHF });
      const check = async () => {
        const response = await authorize(server(), {
          organization_id: org,
          api_key_id: budgeted.id,
          estimated_cost: 1,
        });
        assert.equal(response.status, 200, response.text);
        return response.body.remaining_budget.api_key as number;
      };
      assert.equal(await check(), 9);
      now += 30 * 60_000;
      // The first has expired (after 300 s), so it no longer holds budget, but is still stored.
      assert.equal(await check(), 9);
      assert.equal(await reservationCount(server(), org), 2);
      now += 40 * 60_000;
      // The first ended 65 minutes ago and goes; the second ended 35 minutes ago and stays.
      assert.equal(await check(), 9);
      assert.equal(await reservationCount(server(), org), 2);
      now += 30 * 60_000;
      assert.equal(await check(), 9);
      assert.equal(await reservationCount(server(), org), 2);
    });

    it('reads open reservations only, not the settled ones still within their expiry', async () => {
      // Settled reservations stay stored until an hour after they expire; a check that visited
      // them grew slower with every request the organization made within the TTL.
      const { storage } = server();
      const query = budgetUsageQuery(storage.db, orgId, monthKeyOf(now), key.id, now).compile();
      let plan: string;
      if (storage.engine === 'sqlite') {
        const rows = sqliteConnection(storage)
          .prepare(`explain query plan ${query.sql}`)
          .all(...query.parameters);
        plan = rows.map((row) => (row as { detail: string }).detail).join('\n');
      } else {
        // The tables are tiny here; without sequential scans the planner has to pick an index.
        plan = await storage.transaction(async (trx) => {
          await sql`set local enable_seqscan = off`.execute(trx);
          const { rows } = await trx.executeQuery<{ 'QUERY PLAN': string }>(
            CompiledQuery.raw(`explain ${query.sql}`, [...query.parameters]),
          );
          return rows.map((row) => row['QUERY PLAN']).join('\n');
        });
      }
      assert.match(plan, /reservations_open_idx/, plan);
      assert.doesNotMatch(plan, /reservations_org_expiry_idx/, plan);
    });

    it('admits exactly N of many concurrent requests when the budget covers N', async () => {
      const org = (await makeOrg(server())).id;
      const budgeted = await makeApiKey(server(), org, { monthlyLimitNano: 7n * CHF });
      const results = await Promise.all(
        Array.from({ length: 60 }, () =>
          authorize(server(), { organization_id: org, api_key_id: budgeted.id, estimated_cost: 1 }),
        ),
      );
      const statuses = results.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 200).length, 7, JSON.stringify(statuses));
      assert.equal(statuses.filter((s) => s === 429).length, 53);
    });
  },
  { clock: () => now },
);
