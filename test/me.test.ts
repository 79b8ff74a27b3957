/**
 * GET /v1/me: an API key learns its organization, id, name and current scopes, a platform admin
 * key its id and name; neither learns a secret or a hash, and a key that no longer works learns
 * nothing. On both engines.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createAdminKey } from '../src/modules/admin-keys/admin-keys.service.ts';
import { assertEnvelope, forEachDialect, makeApiKey, makeOrg } from './harness.ts';

forEachDialect('GET /v1/me', (server) => {
  it('describes an API key: organization, id, name and scopes', async () => {
    const org = await makeOrg(server());
    const key = await makeApiKey(server(), org.id, { name: 'Dashboard (read-only)', scopes: ['read:usage'] });
    const response = await server().request('GET', '/v1/me', { key: key.secret });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, {
      kind: 'api_key',
      organization_id: org.id,
      api_key_id: key.id,
      key_name: 'Dashboard (read-only)',
      scopes: ['read:usage'],
    });
    assert.ok(!response.text.includes(key.secret) && !response.text.includes(key.keyHash), 'no secret, no hash');
  });

  it('shows the scopes a key holds now, after they were changed', async () => {
    const org = await makeOrg(server());
    const manager = await makeApiKey(server(), org.id, { scopes: ['read:usage', 'manage:keys'] });
    const key = await makeApiKey(server(), org.id, { scopes: ['read:usage', 'write:usage'] });
    assert.deepEqual((await server().request('GET', '/v1/me', { key: key.secret })).body.scopes, [
      'read:usage',
      'write:usage',
    ]);
    const changed = await server().request('PATCH', `/v1/organizations/${org.id}/api-keys/${key.id}`, {
      key: manager.secret,
      body: { scopes: ['read:usage'] },
    });
    assert.equal(changed.status, 200, changed.text);
    const me = await server().request('GET', '/v1/me', { key: key.secret });
    assert.deepEqual(me.body.scopes, ['read:usage']);
  });

  it('describes a platform admin key: id and name, no organization or scopes', async () => {
    const { adminKey, secret } = await createAdminKey(server().storage.db, 'ops on call', Date.now());
    const response = await server().request('GET', '/v1/me', { headers: { 'api-key': secret } });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, { kind: 'admin', admin_key_id: adminKey.id, key_name: 'ops on call' });
  });

  it('answers a missing, unknown or deactivated key with its 401', async () => {
    assertEnvelope(assert, await server().request('GET', '/v1/me'), 401, 'AUTHENTICATION_REQUIRED');
    assertEnvelope(
      assert,
      await server().request('GET', '/v1/me', { key: 'fak_unknownunknownunknown' }),
      401,
      'INVALID_API_KEY',
    );
    const org = await makeOrg(server());
    const key = await makeApiKey(server(), org.id);
    const deactivated = await server().request('POST', `/v1/organizations/${org.id}/api-keys/${key.id}/deactivate`, {
      key: server().adminKey,
    });
    assert.equal(deactivated.status, 200, deactivated.text);
    assertEnvelope(assert, await server().request('GET', '/v1/me', { key: key.secret }), 401, 'API_KEY_DEACTIVATED');
  });

  it('is listed in the OpenAPI document as an authenticated route', async () => {
    const doc = (await server().request('GET', '/openapi.json')).body;
    const operation = doc.paths['/v1/me'].get;
    assert.deepEqual(operation.security, [{ ApiKey: [] }, { ApiKeyAlternative: [] }]);
    // Any valid key may call it, and it names no organization: there is no 403 to give.
    assert.deepEqual(Object.keys(operation.responses).sort(), ['200', '401', '500', '503']);
  });
});
