/** Organizations as a platform admin sees them: create, list in pages, get and rename. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertEnvelope, forEachDialect, makeApiKey, makeOrg } from './harness.ts';

forEachDialect('organizations', (server) => {
  it('lists every organization in pages, oldest first, with the total', async () => {
    const s = server();
    const created = [];
    for (const name of ['First', 'Second', 'Third']) {
      const response = await s.request('POST', '/v1/organizations', { key: s.adminKey, body: { name } });
      assert.equal(response.status, 201, response.text);
      created.push(response.body);
    }
    const all = await s.request('GET', '/v1/organizations?page_size=100', { key: s.adminKey });
    assert.equal(all.status, 200, all.text);
    const ids = all.body.organizations.map((o: { id: string }) => o.id);
    const positions = created.map((o) => ids.indexOf(o.id));
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
      'created in this order, listed in this order',
    );
    assert.ok(positions.every((p) => p >= 0));
    const total = all.body.pagination.total_count;
    assert.equal(total, ids.length);

    const second = await s.request('GET', '/v1/organizations?page=2&page_size=2', { key: s.adminKey });
    assert.equal(second.status, 200);
    assert.deepEqual(
      second.body.organizations.map((o: { id: string }) => o.id),
      ids.slice(2, 4),
    );
    assert.deepEqual(second.body.pagination, {
      page: 2,
      page_size: 2,
      total_count: total,
      total_pages: Math.ceil(total / 2),
    });
    const first = all.body.organizations[positions[0]!];
    assert.deepEqual(first, created[0]);
  });

  it('gets one organization, and answers 404 for one that does not exist', async () => {
    const s = server();
    const org = await makeOrg(s, { name: 'Gettable' });
    const response = await s.request('GET', `/v1/organizations/${org.id}`, { key: s.adminKey });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.body.id, org.id);
    assert.equal(response.body.name, 'Gettable');
    assert.match(response.body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const missing = await s.request('GET', '/v1/organizations/org_nobodyhasthis', { key: s.adminKey });
    assertEnvelope(assert, missing, 404, 'ORGANIZATION_NOT_FOUND');
    assert.equal(missing.body.error.details.organization_id, 'org_nobodyhasthis');
  });

  it('renames an organization; a blank or unknown one changes nothing', async () => {
    const s = server();
    const org = await makeOrg(s, { name: 'Old name' });
    const renamed = await s.request('PATCH', `/v1/organizations/${org.id}`, {
      key: s.adminKey,
      body: { name: '  New name  ' },
    });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.name, 'New name');
    assert.equal(renamed.body.id, org.id);

    for (const body of [{ name: '   ' }, { name: '' }, { name: 'x'.repeat(201) }, {}, { name: 'ok', id: 'org_x' }]) {
      const bad = await s.request('PATCH', `/v1/organizations/${org.id}`, { key: s.adminKey, body });
      assertEnvelope(assert, bad, 400, 'INVALID_REQUEST');
    }
    const unknown = await s.request('PATCH', '/v1/organizations/org_nobodyhasthis', {
      key: s.adminKey,
      body: { name: 'Anything' },
    });
    assertEnvelope(assert, unknown, 404, 'ORGANIZATION_NOT_FOUND');
    const stored = await s.storage.db.selectFrom('organizations').select('name').where('id', '=', org.id).execute();
    assert.deepEqual(stored, [{ name: 'New name' }]);
  });

  it('is for platform admin keys only', async () => {
    const s = server();
    const org = await makeOrg(s);
    const key = await makeApiKey(s, org.id, { scopes: ['read:usage', 'write:usage', 'manage:keys'] });
    for (const [method, path] of [
      ['GET', '/v1/organizations'],
      ['GET', `/v1/organizations/${org.id}`],
    ] as const) {
      assertEnvelope(assert, await s.request(method, path, { key: key.secret }), 403, 'INSUFFICIENT_PERMISSIONS');
    }
    const rename = await s.request('PATCH', `/v1/organizations/${org.id}`, {
      key: key.secret,
      body: { name: 'Taken over' },
    });
    assertEnvelope(assert, rename, 403, 'INSUFFICIENT_PERMISSIONS');
  });
});
