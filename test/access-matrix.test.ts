/**
 * Tenant isolation and authentication on every route: each route × each kind of caller, with
 * the status and code DESIGN prescribes; another organization's key id named under the
 * caller's own organization; and every route without an access declaration is one of the
 * public routes listed here. Runs on both engines.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, it } from 'node:test';
import { createAdminKey } from '../src/modules/admin-keys/admin-keys.service.ts';
import type { Scope } from '../src/modules/api-keys/scopes.ts';
import { assertEnvelope, forEachDialect, makeApiKey, makeOrg, type TestServer } from './harness.ts';
import { ROUTE_CASES, type RouteCase, type RouteContext } from './route-cases.ts';
import { tableContents } from './table-contents.ts';

const ALL_SCOPES: Scope[] = ['read:usage', 'write:usage', 'manage:keys'];

/** Routes that answer without a key. Any other route must declare its access. */
const PUBLIC_ROUTES = [
  'GET /openapi.json',
  'GET /metrics',
  'GET /healthz',
  'GET /readyz',
  'GET /',
  'GET /dashboard',
  'GET /dashboard/dashboard.css',
  'GET /dashboard/dashboard.js',
  'GET /dashboard/charts.js',
  'GET /dashboard/breakdown.js',
  'GET /dashboard/format.js',
  'GET /dashboard/assets/chart.umd.js',
  'GET /dashboard/favicon.svg',
  'GET /favicon.ico',
];
/** The interactive API reference and its static assets (@fastify/swagger-ui), left out of the document. */
const PUBLIC_HIDDEN_PREFIX = 'GET /docs';

interface Caller {
  name: string;
  /** The key to send, given the prepared keys; undefined sends none. */
  key: (keys: Keys) => string | undefined;
  /** Header to send the key in. */
  header?: string;
  expect: (route: RouteCase) => { status: number; code?: string };
}

interface Keys {
  admin: string;
  full: string;
  otherOrg: string;
  deactivated: string;
  paused: string;
  expired: string;
  deleted: string;
  deletedAdmin: string;
  /** A key of the organization with every scope except the one named. */
  without: Record<Scope, string>;
  /** A key of the organization with the one scope named and no other. */
  only: Record<Scope, string>;
}

const ok = { status: 200 };
const CALLERS: Caller[] = [
  { name: 'no key', key: () => undefined, expect: () => ({ status: 401, code: 'AUTHENTICATION_REQUIRED' }) },
  {
    name: 'unknown key',
    key: () => 'fak_unknownunknownunknown',
    expect: () => ({ status: 401, code: 'INVALID_API_KEY' }),
  },
  { name: 'deactivated key', key: (k) => k.deactivated, expect: () => ({ status: 401, code: 'API_KEY_DEACTIVATED' }) },
  { name: 'paused key', key: (k) => k.paused, expect: () => ({ status: 401, code: 'API_KEY_PAUSED' }) },
  { name: 'expired key', key: (k) => k.expired, expect: () => ({ status: 401, code: 'API_KEY_EXPIRED' }) },
  { name: 'deleted key', key: (k) => k.deleted, expect: () => ({ status: 401, code: 'INVALID_API_KEY' }) },
  {
    name: 'deleted platform admin key',
    key: (k) => k.deletedAdmin,
    expect: () => ({ status: 401, code: 'INVALID_API_KEY' }),
  },
  {
    name: "another organization's key",
    key: (k) => k.otherOrg,
    // The organization in the path is checked first: another organization is denied before
    // the route's needs are looked at, so that its existence is not leaked either way.
    expect: (r) =>
      r.needs === 'authenticated'
        ? ok
        : r.needs === 'admin' && !addressesOrganization(r)
          ? { status: 403, code: 'INSUFFICIENT_PERMISSIONS' }
          : { status: 403, code: 'ORGANIZATION_ACCESS_DENIED' },
  },
  {
    name: 'key without the scope',
    key: (k) => k.full, // replaced per route below
    expect: () => ({ status: 403, code: 'INSUFFICIENT_PERMISSIONS' }),
  },
  {
    name: 'key with the scope',
    key: (k) => k.full,
    expect: (r) => (r.needs === 'admin' ? { status: 403, code: 'INSUFFICIENT_PERMISSIONS' } : ok),
  },
  {
    name: 'key with the scope, in Api-Key',
    key: (k) => k.full,
    header: 'api-key',
    expect: (r) => (r.needs === 'admin' ? { status: 403, code: 'INSUFFICIENT_PERMISSIONS' } : ok),
  },
  { name: 'platform admin key', key: (k) => k.admin, expect: () => ok },
];

forEachDialect('access matrix', (server) => {
  let orgId: string;
  let apiKeyId: string;
  let otherOrgKeyId: string;
  let keys: Keys;

  before(async () => {
    const s = server();
    orgId = (await makeOrg(s)).id;
    const other = await makeOrg(s);
    const full = await makeApiKey(s, orgId, { scopes: ALL_SCOPES });
    apiKeyId = full.id;
    const state = async (state: 'deactivated' | 'paused' | 'deleted') => {
      const key = await makeApiKey(s, orgId, { scopes: ALL_SCOPES });
      await s.storage.db.updateTable('api_keys').set({ state }).where('id', '=', key.id).execute();
      return key.secret;
    };
    const without = {} as Record<Scope, string>;
    const only = {} as Record<Scope, string>;
    for (const scope of ALL_SCOPES) {
      without[scope] = (await makeApiKey(s, orgId, { scopes: ALL_SCOPES.filter((x) => x !== scope) })).secret;
      only[scope] = (await makeApiKey(s, orgId, { scopes: [scope] })).secret;
    }
    const otherOrgKey = await makeApiKey(s, other.id, { scopes: ALL_SCOPES });
    otherOrgKeyId = otherOrgKey.id;
    keys = {
      admin: s.adminKey,
      full: full.secret,
      otherOrg: otherOrgKey.secret,
      deactivated: await state('deactivated'),
      paused: await state('paused'),
      deleted: await state('deleted'),
      deletedAdmin: await deletedAdminKey(s),
      expired: (await makeApiKey(s, orgId, { scopes: ALL_SCOPES, expiresAt: Date.now() - 1000 })).secret,
      without,
      only,
    };
  });

  it('covers every authenticated route of the app', () => {
    const covered = new Set(ROUTE_CASES.map((c) => `${c.method} ${c.route}`));
    const missing = server()
      .app.routeCatalog.filter((r) => r.access !== undefined)
      .map((r) => `${r.method} ${r.url}`)
      .filter((r) => !covered.has(r));
    assert.deepEqual(missing, [], 'add these routes to test/route-cases.ts');
  });

  it('declares access on every route but the listed public ones, which answer without a key', async () => {
    const undeclared = server()
      .app.routeCatalog.filter((r) => r.access === undefined)
      .map((r) => ({ name: `${r.method} ${r.url}`, hidden: r.hidden }));
    const unlisted = undeclared
      .filter((r) => !PUBLIC_ROUTES.includes(r.name) && !(r.hidden && r.name.startsWith(PUBLIC_HIDDEN_PREFIX)))
      .map((r) => r.name);
    assert.deepEqual(unlisted, [], 'declare config.access on these routes, or list them as public here');
    assert.deepEqual(
      undeclared.filter((r) => !r.hidden).map((r) => r.name),
      PUBLIC_ROUTES,
      'every listed public route is registered',
    );
    for (const route of PUBLIC_ROUTES) {
      const response = await server().request('GET', route.split(' ')[1]!);
      assert.equal(response.status, 200, `${route}: ${response.text.slice(0, 200)}`);
    }
  });

  for (const route of ROUTE_CASES) {
    for (const caller of CALLERS) {
      if (caller.name === 'key without the scope' && (route.needs === 'admin' || route.needs === 'authenticated'))
        continue;
      it(`${route.method} ${route.route} — ${caller.name}`, async () => {
        const ctx: RouteContext = { orgId, apiKeyId, unique: randomUUID() };
        if (route.spareKey) ctx.spareKeyId = (await makeApiKey(server(), orgId, { name: 'spare' })).id;
        if (route.spareAdminKey)
          ctx.spareAdminKeyId = (await createAdminKey(server().storage.db, 'spare', Date.now())).adminKey.id;
        let key = caller.key(keys);
        if (caller.name === 'key without the scope') key = keys.without[route.needs as Scope];
        const response = await call(server(), route, ctx, key, caller.header);
        const expected = caller.expect(route);
        if (expected.code) assertEnvelope(assert, response, expected.status, expected.code);
        else assert.ok(response.status >= 200 && response.status < 300, `${response.status} ${response.text}`);
      });
    }
    for (const [i, grant] of (route.grants ?? []).entries()) {
      it(`${route.method} ${route.route} — granting scopes, body ${i + 1}`, async () => {
        const ctx: RouteContext = { orgId, apiKeyId, unique: randomUUID() };
        if (route.spareKey) ctx.spareKeyId = (await makeApiKey(server(), orgId, { name: 'spare' })).id;
        const granting = { ...route, body: grant };
        const before = await storedKeys(server(), orgId);
        const refused = await call(server(), granting, ctx, keys.only[route.needs as Scope]);
        assertEnvelope(assert, refused, 403, 'INSUFFICIENT_PERMISSIONS');
        assert.ok(Array.isArray(refused.body.error.details?.scopes_not_held), refused.text);
        assert.deepEqual(await storedKeys(server(), orgId), before, 'nothing was written');
        for (const key of [keys.full, keys.admin]) {
          const granted = await call(server(), granting, ctx, key);
          assert.ok(granted.status >= 200 && granted.status < 300, `${granted.status} ${granted.text}`);
        }
      });
    }
    if (addressesOrganization(route)) {
      it(`${route.method} ${route.route} — an organization that does not exist`, async () => {
        const ctx: RouteContext = { orgId: 'org_doesnotexist', apiKeyId, spareKeyId: apiKeyId, unique: randomUUID() };
        // Not leaked to a key of another organization…
        assertEnvelope(assert, await call(server(), route, ctx, keys.full), 403, 'ORGANIZATION_ACCESS_DENIED');
        // …and plainly reported to a platform admin.
        assertEnvelope(assert, await call(server(), route, ctx, keys.admin), 404, 'ORGANIZATION_NOT_FOUND');
      });
    }
  }

  // Every route that names an API key, with the id of another organization's key under the
  // caller's own organization: the key is not found there, whoever asks, and nothing changes.
  for (const route of ROUTE_CASES) {
    const marker = { orgId: 'org_x', apiKeyId: 'apikey_marker', spareKeyId: 'apikey_marker', unique: 'u' };
    const namesKey =
      route.path(marker).includes('apikey_marker') ||
      JSON.stringify(route.body?.(marker) ?? null).includes('apikey_marker');
    if (!namesKey) continue;
    it(`${route.method} ${route.route} — another organization's key id under the caller's organization`, async () => {
      const ctx: RouteContext = { orgId, apiKeyId: otherOrgKeyId, spareKeyId: otherOrgKeyId, unique: randomUUID() };
      for (const key of [keys.full, keys.admin]) {
        const before = await tableContents(server());
        const response = await call(server(), route, ctx, key);
        assertEnvelope(assert, response, 404, 'API_KEY_NOT_FOUND');
        assert.equal(response.body.error.details?.api_key_id, otherOrgKeyId, response.text);
        assert.deepEqual(await tableContents(server()), before, 'nothing changed');
      }
    });
  }
});

/** Whether the route's path names the organization it acts on. */
function addressesOrganization(route: RouteCase): boolean {
  return route.path({ orgId: 'org_x', apiKeyId: 'apikey_x', unique: 'u' }).includes('org_x');
}

async function deletedAdminKey(server: TestServer): Promise<string> {
  const { adminKey, secret } = await createAdminKey(server.storage.db, 'deleted', Date.now());
  await server.storage.db.updateTable('admin_keys').set({ state: 'deleted' }).where('id', '=', adminKey.id).execute();
  return secret;
}

/** The organization's keys as stored, without the bookkeeping of last use. */
async function storedKeys(server: TestServer, orgId: string) {
  const rows = await server.storage.db
    .selectFrom('api_keys')
    .select(['id', 'name', 'scopes', 'state', 'expires_at'])
    .where('organization_id', '=', orgId)
    .orderBy('id')
    .execute();
  return rows.map((row) => ({ ...row, expires_at: row.expires_at?.toString() ?? null }));
}

function call(server: TestServer, route: RouteCase, ctx: RouteContext, key: string | undefined, header = 'x-api-key') {
  return server.request(route.method, route.path(ctx), {
    headers: key === undefined ? {} : { [header]: key },
    body: route.body?.(ctx),
  });
}
