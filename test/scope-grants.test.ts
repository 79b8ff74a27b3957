/**
 * A key creates or updates keys only with scopes it holds itself; platform admin keys grant
 * any. A refused request is 403 INSUFFICIENT_PERMISSIONS naming the scopes, and writes nothing.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { assertEnvelope, forEachDialect, makeApiKey, makeOrg, type TestServer } from './harness.ts';

/** The organization's keys as stored, without the bookkeeping of last use. */
async function storedKeys(server: TestServer, orgId: string) {
  const rows = await server.storage.db
    .selectFrom('api_keys')
    .select(['id', 'name', 'scopes', 'state', 'monthly_limit_nano', 'expires_at'])
    .where('organization_id', '=', orgId)
    .orderBy('id')
    .execute();
  return rows.map((row) => ({ ...row, monthly_limit_nano: row.monthly_limit_nano?.toString() ?? null }));
}

forEachDialect('granting scopes', (server) => {
  let orgId: string;
  let managerOnly: { id: string; secret: string };
  let reader: { id: string; secret: string };
  const keysUrl = () => `/v1/organizations/${orgId}/api-keys`;

  before(async () => {
    orgId = (await makeOrg(server())).id;
    managerOnly = await makeApiKey(server(), orgId, { name: 'manager', scopes: ['manage:keys'] });
    reader = await makeApiKey(server(), orgId, { name: 'read manager', scopes: ['read:usage', 'manage:keys'] });
  });

  /** Sends the request and checks the 403, its named scopes, and that no key changed. */
  async function refused(key: string, method: string, url: string, body: unknown, notHeld: string[]) {
    const before = await storedKeys(server(), orgId);
    const response = await server().request(method, url, { key, body });
    assertEnvelope(assert, response, 403, 'INSUFFICIENT_PERMISSIONS');
    assert.deepEqual(response.body.error.details, { scopes_not_held: notHeld });
    for (const scope of notHeld) assert.match(response.body.error.system_message, new RegExp(scope));
    assert.deepEqual(await storedKeys(server(), orgId), before, 'nothing was written');
    return response;
  }

  it('refuses to create a key with scopes the creator does not hold', async () => {
    const all = ['read:usage', 'write:usage', 'manage:keys'];
    await refused(managerOnly.secret, 'POST', keysUrl(), { key_name: 'all', scopes: all }, [
      'read:usage',
      'write:usage',
    ]);
    await refused(reader.secret, 'POST', keysUrl(), { key_name: 'all', scopes: all }, ['write:usage']);
  });

  it('refuses the default scopes to a creator that lacks them, and says to name the scopes', async () => {
    const response = await refused(managerOnly.secret, 'POST', keysUrl(), { key_name: 'defaults' }, [
      'read:usage',
      'write:usage',
    ]);
    assert.match(response.body.error.system_message, /default scopes read:usage, write:usage.*name them/);
    await refused(reader.secret, 'POST', keysUrl(), { key_name: 'defaults' }, ['write:usage']);
  });

  it('creates a key with scopes the creator holds, defaults included when it holds them', async () => {
    const own = await server().request('POST', keysUrl(), {
      key: reader.secret,
      body: { key_name: 'reader', scopes: ['read:usage'] },
    });
    assert.equal(own.status, 201, own.text);
    assert.deepEqual(own.body.scopes, ['read:usage']);
    const full = await makeApiKey(server(), orgId, { scopes: ['read:usage', 'write:usage', 'manage:keys'] });
    const defaults = await server().request('POST', keysUrl(), { key: full.secret, body: { key_name: 'defaults' } });
    assert.equal(defaults.status, 201, defaults.text);
    assert.deepEqual(defaults.body.scopes, ['read:usage', 'write:usage']);
  });

  it('refuses to widen its own scopes or another key’s', async () => {
    const other = await makeApiKey(server(), orgId, { name: 'other', scopes: ['manage:keys'] });
    await refused(
      managerOnly.secret,
      'PATCH',
      `${keysUrl()}/${managerOnly.id}`,
      { scopes: ['manage:keys', 'read:usage'] },
      ['read:usage'],
    );
    await refused(
      reader.secret,
      'PATCH',
      `${keysUrl()}/${reader.id}`,
      { scopes: ['read:usage', 'write:usage', 'manage:keys'] },
      ['write:usage'],
    );
    await refused(
      managerOnly.secret,
      'PATCH',
      `${keysUrl()}/${other.id}`,
      { key_name: 'renamed', scopes: ['write:usage'] },
      ['write:usage'],
    );
  });

  it('sets scopes it holds, and changes other fields of a key whose scopes it lacks', async () => {
    const wide = await makeApiKey(server(), orgId, { name: 'wide', scopes: ['read:usage', 'write:usage'] });
    const renamed = await server().request('PATCH', `${keysUrl()}/${wide.id}`, {
      key: managerOnly.secret,
      body: { key_name: 'renamed' },
    });
    assert.equal(renamed.status, 200, renamed.text);
    assert.deepEqual(renamed.body.scopes, ['read:usage', 'write:usage']);
    const narrowed = await server().request('PATCH', `${keysUrl()}/${wide.id}`, {
      key: reader.secret,
      body: { scopes: ['read:usage'] },
    });
    assert.equal(narrowed.status, 200, narrowed.text);
    assert.deepEqual(narrowed.body.scopes, ['read:usage']);
  });

  it('lets a platform admin key grant any scope', async () => {
    const all = ['read:usage', 'write:usage', 'manage:keys'];
    const created = await server().request('POST', keysUrl(), {
      key: server().adminKey,
      body: { key_name: 'admin made', scopes: all },
    });
    assert.equal(created.status, 201, created.text);
    const narrow = await makeApiKey(server(), orgId, { name: 'narrow', scopes: ['manage:keys'] });
    const patched = await server().request('PATCH', `${keysUrl()}/${narrow.id}`, {
      key: server().adminKey,
      body: { scopes: all },
    });
    assert.equal(patched.status, 200, patched.text);
    const stored = await storedKeys(server(), orgId);
    assert.equal(stored.find((k) => k.id === narrow.id)?.scopes, 'manage:keys read:usage write:usage');
  });
});
