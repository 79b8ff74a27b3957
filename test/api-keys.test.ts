/** Key management over HTTP: list, get, update, delete, activate, deactivate, last use. */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { createApiKey } from '../src/modules/api-keys/api-keys.service.ts';
import { OPERATOR } from '../src/modules/auth/principal.ts';
import { assertEnvelope, forEachDialect, makeApiKey, makeOrg } from './harness.ts';

forEachDialect('API-key management', (server) => {
  let orgId: string;
  let otherOrgId: string;
  let manager: string;
  const base = () => `/v1/organizations/${orgId}/api-keys`;
  const call = (method: string, url: string, body?: unknown) =>
    server().request(method, url, { key: manager, ...(body === undefined ? {} : { body }) });

  before(async () => {
    orgId = (await makeOrg(server())).id;
    otherOrgId = (await makeOrg(server())).id;
    manager = (await makeApiKey(server(), orgId, { name: 'manager' })).secret;
  });

  it('creates a key whose secret is shown once and never listed', async () => {
    const created = await call('POST', base(), { key_name: 'Production Key', usage_limit_chf: '500.00' });
    assert.equal(created.status, 201, created.text);
    assert.match(created.body.key, /^fak_/);
    assert.equal(created.body.usage_limit_chf, 500);
    const shown = await call('GET', `${base()}/${created.body.id}`);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.key, undefined);
    assert.ok(!shown.text.includes(created.body.key));
    assert.deepEqual(Object.keys(shown.body).sort(), [
      'created_at',
      'expires_at',
      'id',
      'is_active',
      'key_name',
      'key_prefix',
      'last_used_at',
      'organization_id',
      'scopes',
      'state',
      'usage_limit_chf',
    ]);
    assert.equal(shown.body.state, 'active');
  });

  it('lists keys in pages, newest first, without deleted ones unless asked', async () => {
    const org = (await makeOrg(server())).id;
    const ids: string[] = [];
    // A second apart, so that "newest" is well defined.
    const created = Date.now() - 60_000;
    for (let i = 0; i < 5; i++) {
      ids.push(
        (await createApiKey(server().storage.db, org, { name: `k${i}` }, created + i * 1000, OPERATOR)).apiKey.id,
      );
    }
    const list = (query: string) =>
      server().request('GET', `/v1/organizations/${org}/api-keys${query}`, { key: server().adminKey });
    const first = await list('?page_size=2');
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body.pagination, { page: 1, page_size: 2, total_count: 5, total_pages: 3 });
    assert.equal(first.body.api_keys.length, 2);
    const third = await list('?page=3&page_size=2');
    assert.equal(third.body.api_keys.length, 1);
    const all = [...first.body.api_keys, ...(await list('?page=2&page_size=2')).body.api_keys, ...third.body.api_keys];
    assert.deepEqual(
      all.map((k: { id: string }) => k.id),
      [...ids].reverse(),
      'newest first, across pages',
    );
    assert.equal((await list('')).body.pagination.page_size, 20);

    const del = await server().request('DELETE', `/v1/organizations/${org}/api-keys/${ids[0]}`, {
      key: server().adminKey,
    });
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(del.body, { success: true, message: 'API key deleted', api_key_id: ids[0] });
    assert.equal((await list('')).body.pagination.total_count, 4);
    const withDeleted = await list('?include_deleted=true');
    assert.equal(withDeleted.body.pagination.total_count, 5);
    assert.equal(withDeleted.body.api_keys.find((k: { id: string }) => k.id === ids[0]).is_active, false);
  });

  it('rejects bad pagination with a 400 naming the parameter', async () => {
    for (const [query, field] of [
      ['?page=0', 'page'],
      ['?page_size=101', 'page_size'],
      ['?page_size=abc', 'page_size'],
      ['?include_deleted=maybe', 'include_deleted'],
    ]) {
      const response = await call('GET', `${base()}${query}`);
      assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
      assert.match(response.body.error.system_message, new RegExp(field!));
    }
  });

  it('updates name, scopes, limit and expiry; null clears; bad input writes nothing', async () => {
    const key = await makeApiKey(server(), orgId, { name: 'before', scopes: ['read:usage'] });
    const url = `${base()}/${key.id}`;
    const updated = await call('PATCH', url, {
      key_name: ' after ',
      scopes: ['read:usage', 'write:usage'],
      usage_limit_chf: 12.5,
      expires_at: '2030-01-01T00:00:00Z',
    });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.key_name, 'after');
    assert.deepEqual(updated.body.scopes, ['read:usage', 'write:usage']);
    assert.equal(updated.body.usage_limit_chf, 12.5);
    assert.equal(updated.body.expires_at, '2030-01-01T00:00:00Z');
    assert.deepEqual((await call('GET', url)).body, updated.body);

    const leap = await call('PATCH', url, { expires_at: '2030-12-31T23:59:60Z' });
    assert.equal(leap.status, 200, leap.text);
    assert.equal(leap.body.expires_at, '2030-12-31T23:59:59Z');

    const cleared = await call('PATCH', url, { usage_limit_chf: null, expires_at: null });
    assert.equal(cleared.body.usage_limit_chf, null);
    assert.equal(cleared.body.expires_at, null);
    assert.equal(cleared.body.key_name, 'after');

    for (const [body, field] of [
      [{}, 'body'],
      [{ usage_limit_chf: 0 }, 'usage_limit_chf'],
      [{ usage_limit_chf: -1 }, 'usage_limit_chf'],
      [{ scopes: ['root'] }, 'scopes'],
      [{ key_name: '' }, 'key_name'],
      [{ expires_at: 'tomorrow' }, 'expires_at'],
    ] as const) {
      const response = await call('PATCH', url, body);
      assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
      assert.match(response.body.error.system_message, new RegExp(field), response.text);
    }
    assert.deepEqual((await call('GET', url)).body, cleared.body);
  });

  it('deactivates and activates; a deactivated key answers 401 API_KEY_DEACTIVATED', async () => {
    const key = await makeApiKey(server(), orgId, { scopes: ['read:usage'] });
    const summary = () => server().request('GET', `/v1/analytics/usage/summary/${orgId}`, { key: key.secret });
    assert.equal((await summary()).status, 200);
    const off = await call('POST', `${base()}/${key.id}/deactivate`);
    assert.equal(off.status, 200, off.text);
    assert.equal(off.body.is_active, false);
    assertEnvelope(assert, await summary(), 401, 'API_KEY_DEACTIVATED');
    assert.equal((await call('POST', `${base()}/${key.id}/deactivate`)).status, 200, 'idempotent');
    const on = await call('POST', `${base()}/${key.id}/activate`);
    assert.equal(on.body.is_active, true);
    assert.equal((await summary()).status, 200);
  });

  it('pauses and activates; a paused key answers 401 API_KEY_PAUSED on every route, at once', async () => {
    const key = await makeApiKey(server(), orgId, { scopes: ['read:usage', 'write:usage'] });
    const summary = () => server().request('GET', `/v1/analytics/usage/summary/${orgId}`, { key: key.secret });
    const me = () => server().request('GET', '/v1/me', { key: key.secret });
    const report = () =>
      server().request('POST', '/v1/usage/events', {
        key: key.secret,
        body: { events: [{ id: 'paused-1', organization_id: orgId, model: 'm', neurons: 1, synapses: 1, cost: '1' }] },
      });
    // Used once, so that this process holds the key as authenticated.
    assert.equal((await summary()).status, 200);
    const paused = await call('POST', `${base()}/${key.id}/pause`);
    assert.equal(paused.status, 200, paused.text);
    assert.equal(paused.body.state, 'paused');
    assert.equal(paused.body.is_active, false);
    assert.equal((await call('GET', `${base()}/${key.id}`)).body.state, 'paused');
    for (const response of [await summary(), await me(), await report()]) {
      assertEnvelope(assert, response, 401, 'API_KEY_PAUSED');
    }
    const stored = await server()
      .storage.db.selectFrom('usage_events')
      .select('id')
      .where('organization_id', '=', orgId)
      .where('id', '=', 'paused-1')
      .execute();
    assert.deepEqual(stored, [], 'nothing was written');
    assert.equal((await call('POST', `${base()}/${key.id}/pause`)).status, 200, 'idempotent');
    const listed = await call('GET', `${base()}?page_size=100`);
    assert.equal(listed.body.api_keys.find((k: { id: string }) => k.id === key.id).state, 'paused');
    const on = await call('POST', `${base()}/${key.id}/activate`);
    assert.equal(on.body.state, 'active');
    assert.equal((await summary()).status, 200);
    assert.equal((await report()).status, 200);
  });

  it('a deleted key cannot be paused (404)', async () => {
    const key = await makeApiKey(server(), orgId);
    assert.equal((await call('DELETE', `${base()}/${key.id}`)).status, 200);
    assertEnvelope(assert, await call('POST', `${base()}/${key.id}/pause`), 404, 'API_KEY_NOT_FOUND');
  });

  it('a deleted key stops authenticating, cannot be re-activated (404), and its usage stays readable', async () => {
    const key = await makeApiKey(server(), orgId, { scopes: ['read:usage', 'write:usage'] });
    const ingest = await server().request('POST', '/v1/usage/events', {
      key: key.secret,
      body: {
        events: [
          { id: 'del-1', organization_id: orgId, api_key_id: key.id, model: 'm', neurons: 1, synapses: 1, cost: '2.5' },
        ],
      },
    });
    assert.equal(ingest.status, 200, ingest.text);
    assert.equal((await call('DELETE', `${base()}/${key.id}`)).status, 200);
    assertEnvelope(
      assert,
      await server().request('GET', `/v1/analytics/usage/summary/${orgId}`, { key: key.secret }),
      401,
      'INVALID_API_KEY',
    );
    for (const [method, suffix] of [
      ['POST', '/activate'],
      ['POST', '/deactivate'],
      ['GET', ''],
      ['PATCH', ''],
      ['DELETE', ''],
    ] as const) {
      const response = await call(
        method,
        `${base()}/${key.id}${suffix}`,
        method === 'PATCH' ? { key_name: 'x' } : undefined,
      );
      assertEnvelope(assert, response, 404, 'API_KEY_NOT_FOUND');
      assert.equal(response.body.error.details.api_key_id, key.id);
    }
    const usage = await server().request('GET', `/v1/analytics/api-keys/usage/${orgId}/${key.id}`, {
      key: server().adminKey,
    });
    assert.equal(usage.status, 200);
    assert.equal(usage.body.usage.totalCost, 2.5);
  });

  it("answers 404 API_KEY_NOT_FOUND for another organization's key and for an unknown one", async () => {
    const foreign = await makeApiKey(server(), otherOrgId);
    for (const id of [foreign.id, 'apikey_doesnotexist']) {
      for (const [method, suffix] of [
        ['GET', ''],
        ['PATCH', ''],
        ['DELETE', ''],
        ['POST', '/activate'],
        ['POST', '/deactivate'],
      ] as const) {
        const response = await call(
          method,
          `${base()}/${id}${suffix}`,
          method === 'PATCH' ? { key_name: 'x' } : undefined,
        );
        assertEnvelope(assert, response, 404, 'API_KEY_NOT_FOUND');
        assert.deepEqual(response.body.error.details, { api_key_id: id });
      }
    }
    const still = await server().request('GET', `/v1/organizations/${otherOrgId}/api-keys/${foreign.id}`, {
      key: server().adminKey,
    });
    assert.equal(still.body.is_active, true);
  });

  it('records last use, at most one write per key per minute', async () => {
    const key = await makeApiKey(server(), orgId, { scopes: ['read:usage'] });
    const lastUsed = async () =>
      (
        await server()
          .storage.db.selectFrom('api_keys')
          .select('last_used_at')
          .where('id', '=', key.id)
          .executeTakeFirstOrThrow()
      ).last_used_at;
    assert.equal(await lastUsed(), null);
    const read = () => server().request('GET', `/v1/analytics/usage/summary/${orgId}`, { key: key.secret });
    await read();
    const first = await lastUsed();
    assert.ok(first !== null);
    await server().storage.db.updateTable('api_keys').set({ last_used_at: 1 }).where('id', '=', key.id).execute();
    await read();
    await read();
    assert.equal(Number(await lastUsed()), 1, 'no second write within the minute');
    const shown = await call('GET', `${base()}/${key.id}`);
    assert.equal(shown.body.last_used_at, '1970-01-01T00:00:00Z');
  });
});
