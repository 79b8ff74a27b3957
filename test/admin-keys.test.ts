/**
 * Platform admin keys over HTTP: list, create, get, delete and rotate; a revoked key's next
 * request is 401 in the same process, and within the cache TTL when the CLI revoked it; the
 * last active key is not deleted; on both engines.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertEnvelope, forEachDialect, type TestServer } from './harness.ts';
import { runCli } from './process.ts';

const VIEW_FIELDS = ['created_at', 'deleted_at', 'id', 'key_name', 'key_prefix', 'last_used_at', 'state'];

async function createKey(server: TestServer, name: string, by = server.adminKey) {
  const created = await server.request('POST', '/v1/admin-keys', { key: by, body: { key_name: name } });
  assert.equal(created.status, 201, created.text);
  return created.body as { id: string; key: string; key_prefix: string; key_name: string; state: string };
}

/** A request only an admin key may make, so that its status says whether the key still works. */
function adminRequest(server: TestServer, key: string) {
  return server.request('GET', '/v1/admin-keys?page_size=1', { key });
}

async function storedState(server: TestServer, id: string) {
  const row = await server.storage.db
    .selectFrom('admin_keys')
    .select(['state', 'deleted_at'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return { state: row.state, deleted: row.deleted_at !== null };
}

/** Runs `work` with every active admin key but `keep` deleted, and makes those active again afterwards. */
async function withOnlyActive(server: TestServer, keep: string[], work: () => Promise<void>): Promise<void> {
  const db = server.storage.db;
  const others = (
    await db.selectFrom('admin_keys').select('id').where('state', '=', 'active').where('id', 'not in', keep).execute()
  ).map((row) => row.id);
  await db.updateTable('admin_keys').set({ state: 'deleted' }).where('id', 'in', others).execute();
  try {
    await work();
  } finally {
    await db.updateTable('admin_keys').set({ state: 'active' }).where('id', 'in', others).execute();
  }
}

forEachDialect('platform admin keys', (server) => {
  it('creates a key whose secret is shown once, and lists and shows it without secret or hash', async () => {
    const created = await createKey(server(), ' ops ');
    assert.match(created.id, /^admin_[0-9a-z]{20}$/);
    assert.match(created.key, /^fak_[A-Za-z0-9]{40}$/);
    assert.equal(created.key.slice(0, 12), created.key_prefix);
    assert.equal(created.key_name, 'ops');
    assert.equal(created.state, 'active');
    assert.equal((await adminRequest(server(), created.key)).status, 200, 'the new key works');

    const shown = await server().request('GET', `/v1/admin-keys/${created.id}`, { key: server().adminKey });
    assert.equal(shown.status, 200, shown.text);
    assert.deepEqual(Object.keys(shown.body).sort(), VIEW_FIELDS);
    assert.equal(shown.body.deleted_at, null);
    assert.match(shown.body.last_used_at, /^\d{4}-\d\d-\d\dT/);

    const listed = await server().request('GET', '/v1/admin-keys?page_size=100', { key: server().adminKey });
    assert.equal(listed.status, 200, listed.text);
    const row = listed.body.admin_keys.find((k: { id: string }) => k.id === created.id);
    assert.deepEqual(row, shown.body);
    for (const key of listed.body.admin_keys) assert.deepEqual(Object.keys(key).sort(), VIEW_FIELDS);
    const hash = (
      await server()
        .storage.db.selectFrom('admin_keys')
        .select('key_hash')
        .where('id', '=', created.id)
        .executeTakeFirstOrThrow()
    ).key_hash;
    assert.ok(!listed.text.includes(created.key) && !listed.text.includes(hash), 'no secret, no hash');
    assert.ok(!shown.text.includes(created.key) && !shown.text.includes(hash));
  });

  it('deletes a key: its next request in this process is 401, though it was just authenticated', async () => {
    const doomed = await createKey(server(), 'doomed');
    assert.equal((await adminRequest(server(), doomed.key)).status, 200, 'authenticated, and so cached');
    const deleted = await server().request('DELETE', `/v1/admin-keys/${doomed.id}`, { key: server().adminKey });
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.body, { success: true, message: 'Admin key deleted', admin_key_id: doomed.id });
    assertEnvelope(assert, await adminRequest(server(), doomed.key), 401, 'INVALID_API_KEY');
    assert.deepEqual(await storedState(server(), doomed.id), { state: 'deleted', deleted: true });

    const list = (query: string) => server().request('GET', `/v1/admin-keys${query}`, { key: server().adminKey });
    const ids = (response: Awaited<ReturnType<typeof list>>) =>
      response.body.admin_keys.map((k: { id: string }) => k.id);
    assert.ok(!ids(await list('?page_size=100')).includes(doomed.id));
    const withDeleted = await list('?page_size=100&include_deleted=true');
    const row = withDeleted.body.admin_keys.find((k: { id: string }) => k.id === doomed.id);
    assert.equal(row.state, 'deleted');
    assert.match(row.deleted_at, /^\d{4}-\d\d-\d\dT/);

    for (const [method, suffix] of [
      ['GET', ''],
      ['DELETE', ''],
      ['POST', '/rotate'],
    ] as const) {
      const response = await server().request(method, `/v1/admin-keys/${doomed.id}${suffix}`, {
        key: server().adminKey,
      });
      assertEnvelope(assert, response, 404, 'API_KEY_NOT_FOUND');
      assert.deepEqual(response.body.error.details, { api_key_id: doomed.id });
      assert.match(response.body.error.system_message, /was deleted/);
    }
  });

  it('lets a key delete itself while another remains', async () => {
    const self = await createKey(server(), 'self');
    const response = await server().request('DELETE', `/v1/admin-keys/${self.id}`, { key: self.key });
    assert.equal(response.status, 200, response.text);
    assertEnvelope(assert, await adminRequest(server(), self.key), 401, 'INVALID_API_KEY');
  });

  it('rotates a key: a new secret with the same name, the old one revoked at once', async () => {
    const old = await createKey(server(), 'gateway ops');
    assert.equal((await adminRequest(server(), old.key)).status, 200);
    const rotated = await server().request('POST', `/v1/admin-keys/${old.id}/rotate`, { key: old.key });
    assert.equal(rotated.status, 201, rotated.text);
    assert.equal(rotated.body.replaced_key_id, old.id);
    assert.equal(rotated.body.key_name, 'gateway ops');
    assert.notEqual(rotated.body.id, old.id);
    assert.match(rotated.body.key, /^fak_/);
    assertEnvelope(assert, await adminRequest(server(), old.key), 401, 'INVALID_API_KEY');
    assert.equal((await adminRequest(server(), rotated.body.key)).status, 200);
    assert.deepEqual(await storedState(server(), old.id), { state: 'deleted', deleted: true });
  });

  it('answers 404 for an unknown key and 400 for a malformed id or name, writing nothing', async () => {
    const before = await server().request('GET', '/v1/admin-keys?include_deleted=true&page_size=100', {
      key: server().adminKey,
    });
    for (const method of ['GET', 'DELETE'] as const) {
      const unknown = await server().request(method, '/v1/admin-keys/admin_nobodyhasthisid', {
        key: server().adminKey,
      });
      assertEnvelope(assert, unknown, 404, 'API_KEY_NOT_FOUND');
      const malformed = await server().request(method, '/v1/admin-keys/apikey_x', { key: server().adminKey });
      assertEnvelope(assert, malformed, 400, 'INVALID_REQUEST');
    }
    for (const body of [{}, { key_name: '' }, { key_name: '   ' }]) {
      const response = await server().request('POST', '/v1/admin-keys', { key: server().adminKey, body });
      assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
      assert.match(response.body.error.system_message, /key_name/);
    }
    const after = await server().request('GET', '/v1/admin-keys?include_deleted=true&page_size=100', {
      key: server().adminKey,
    });
    assert.equal(after.body.pagination.total_count, before.body.pagination.total_count);
  });

  it('of the last two keys deleting each other at once, exactly one goes', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await createKey(server(), `a${round}`);
      const b = await createKey(server(), `b${round}`);
      await withOnlyActive(server(), [a.id, b.id], async () => {
        // Both keys authenticated first, so that neither request is refused before it tries to delete.
        await Promise.all([adminRequest(server(), a.key), adminRequest(server(), b.key)]);
        const [byA, byB] = await Promise.all([
          server().request('DELETE', `/v1/admin-keys/${b.id}`, { key: a.key }),
          server().request('DELETE', `/v1/admin-keys/${a.id}`, { key: b.key }),
        ]);
        const statuses = [byA.status, byB.status].sort();
        assert.equal(statuses[0], 200, `${byA.text} ${byB.text}`);
        assert.ok(statuses[1] === 409 || statuses[1] === 401, `${byA.text} ${byB.text}`);
        const active = await server()
          .storage.db.selectFrom('admin_keys')
          .select('id')
          .where('state', '=', 'active')
          .execute();
        assert.equal(active.length, 1);
      });
    }
  });

  it('refuses to delete the last active key (409), which keeps working', async () => {
    const sole = await createKey(server(), 'sole');
    await withOnlyActive(server(), [sole.id], async () => {
      const refused = await server().request('DELETE', `/v1/admin-keys/${sole.id}`, { key: sole.key });
      assertEnvelope(assert, refused, 409, 'CONFLICT');
      assert.deepEqual(refused.body.error.details, { admin_key_id: sole.id, active_admin_keys: 1 });
      assert.match(refused.body.error.system_message, /last active platform admin key.*--force/);
      assert.deepEqual(await storedState(server(), sole.id), { state: 'active', deleted: false });
      assert.equal((await adminRequest(server(), sole.key)).status, 200);
      // Rotating the last key leaves one active key, so it is allowed.
      const rotated = await server().request('POST', `/v1/admin-keys/${sole.id}/rotate`, { key: sole.key });
      assert.equal(rotated.status, 201, rotated.text);
      assert.equal((await adminRequest(server(), rotated.body.key)).status, 200);
    });
  });
});

// Another process (the CLI, a replica) deleting a key: this one notices within the principal
// cache's TTL, here by moving its clock past it.
let skew = 0;
forEachDialect(
  'platform admin keys deleted by another process',
  (server) => {
    it('stop working here within 5 seconds', async () => {
      const created = await createKey(server(), 'elsewhere');
      assert.equal((await adminRequest(server(), created.key)).status, 200, 'cached now');
      const cli = await runCli(['keys', 'delete', '--admin', created.id], server().database.env);
      assert.equal(cli.code, 0, cli.stderr);
      skew += 5_000;
      assertEnvelope(assert, await adminRequest(server(), created.key), 401, 'INVALID_API_KEY');
    });
  },
  { clock: () => Date.now() + skew },
);
