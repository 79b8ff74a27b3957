/**
 * Every authenticated route with a request that would succeed for a rightful caller. The
 * access matrix runs each one against every kind of caller; a route missing from this list
 * fails that suite, so no route can forget its 401 / 403 checks.
 */
import type { Scope } from '../src/modules/api-keys/scopes.ts';

export interface RouteContext {
  orgId: string;
  /** A key of `orgId` that the request may address. */
  apiKeyId: string;
  /** A fresh unique string per call, for ids that must not repeat. */
  unique: string;
  /** A fresh key of `orgId` per call, for requests that deactivate or delete the key they address. */
  spareKeyId?: string;
  /** A fresh platform admin key per call, for requests that delete or rotate the key they address. */
  spareAdminKeyId?: string;
}

export interface RouteCase {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The route as registered, e.g. `/v1/analytics/usage/summary/:org_id`. */
  route: string;
  path: (ctx: RouteContext) => string;
  body?: (ctx: RouteContext) => unknown;
  /** What the caller needs: a scope of the organization, a platform admin key, or any valid key. */
  needs: Scope | 'admin' | 'authenticated';
  /** Create `spareKeyId` for each call. */
  spareKey?: boolean;
  /** Create `spareAdminKeyId` for each call. */
  spareAdminKey?: boolean;
  /**
   * Bodies that grant every scope (or the default ones): a key holding only the route's scope
   * must be refused them with 403 INSUFFICIENT_PERMISSIONS, writing nothing.
   */
  grants?: Array<(ctx: RouteContext) => unknown>;
}

const ALL_SCOPES: Scope[] = ['read:usage', 'write:usage', 'manage:keys'];

export const ROUTE_CASES: RouteCase[] = [
  {
    method: 'POST',
    route: '/v1/organizations',
    path: () => '/v1/organizations',
    body: () => ({ name: 'Matrix Org' }),
    needs: 'admin',
  },
  { method: 'GET', route: '/v1/organizations', path: () => '/v1/organizations?page_size=5', needs: 'admin' },
  {
    method: 'GET',
    route: '/v1/organizations/:org_id',
    path: (c) => `/v1/organizations/${c.orgId}`,
    needs: 'admin',
  },
  {
    method: 'PATCH',
    route: '/v1/organizations/:org_id',
    path: (c) => `/v1/organizations/${c.orgId}`,
    body: () => ({ name: 'Matrix Org' }),
    needs: 'admin',
  },
  {
    method: 'POST',
    route: '/v1/organizations/:org_id/api-keys',
    path: (c) => `/v1/organizations/${c.orgId}/api-keys`,
    body: () => ({ key_name: 'matrix' }),
    needs: 'manage:keys',
    grants: [() => ({ key_name: 'matrix', scopes: ALL_SCOPES }), () => ({ key_name: 'matrix defaults' })],
  },
  {
    method: 'POST',
    route: '/v1/usage/events',
    path: () => '/v1/usage/events',
    body: (c) => ({
      events: [{ id: c.unique, organization_id: c.orgId, model: 'gpt-4o', neurons: 1, synapses: 1, cost: '0.01' }],
    }),
    needs: 'write:usage',
  },
  {
    method: 'GET',
    route: '/v1/analytics/usage/summary/:org_id',
    path: (c) => `/v1/analytics/usage/summary/${c.orgId}`,
    needs: 'read:usage',
  },
  {
    method: 'GET',
    route: '/v1/analytics/api-keys/summary/:org_id',
    path: (c) => `/v1/analytics/api-keys/summary/${c.orgId}?year=2025&month=11`,
    needs: 'read:usage',
  },
  {
    method: 'GET',
    route: '/v1/analytics/api-keys/usage/:org_id/:api_key_id',
    path: (c) => `/v1/analytics/api-keys/usage/${c.orgId}/${c.apiKeyId}?month=11&year=2025`,
    needs: 'read:usage',
  },
  {
    method: 'GET',
    route: '/v1/analytics/usage/daily/:org_id',
    path: (c) => `/v1/analytics/usage/daily/${c.orgId}?year=2025&month=11`,
    needs: 'read:usage',
  },
  {
    method: 'GET',
    route: '/v1/analytics/usage/monthly/:org_id',
    path: (c) => `/v1/analytics/usage/monthly/${c.orgId}?months=6`,
    needs: 'read:usage',
  },
  {
    method: 'GET',
    route: '/v1/analytics/usage/yearly/:org_id',
    path: (c) => `/v1/analytics/usage/yearly/${c.orgId}?years=2`,
    needs: 'read:usage',
  },
  {
    method: 'GET',
    route: '/v1/analytics/api-keys/daily/:org_id',
    path: (c) => `/v1/analytics/api-keys/daily/${c.orgId}?year=2025&month=11`,
    needs: 'read:usage',
  },
  {
    method: 'GET',
    route: '/v1/analytics/:org_id/api-keys/top/:month/:year',
    path: (c) => `/v1/analytics/${c.orgId}/api-keys/top/11/2025?limit=5`,
    needs: 'read:usage',
  },
  {
    method: 'GET',
    route: '/v1/analytics/usage/hourly/:org_id',
    path: (c) => `/v1/analytics/usage/hourly/${c.orgId}?date=2025-11-15`,
    needs: 'read:usage',
  },
  {
    method: 'GET',
    route: '/v1/analytics/usage/breakdown/:org_id',
    path: (c) =>
      `/v1/analytics/usage/breakdown/${c.orgId}?window=month&from=2025-10-01&to=2025-12-01&group_by=model,tag:team`,
    needs: 'read:usage',
  },
  {
    method: 'GET',
    route: '/v1/analytics/usage/heatmap/:org_id',
    path: (c) => `/v1/analytics/usage/heatmap/${c.orgId}?days=30&metric=neurons`,
    needs: 'read:usage',
  },
  {
    method: 'GET',
    route: '/v1/analytics/usage/trends/:org_id',
    path: (c) => `/v1/analytics/usage/trends/${c.orgId}?months=6`,
    needs: 'read:usage',
  },
  {
    method: 'GET',
    route: '/v1/organizations/:org_id/api-keys',
    path: (c) => `/v1/organizations/${c.orgId}/api-keys?page=1&page_size=5`,
    needs: 'manage:keys',
  },
  {
    method: 'GET',
    route: '/v1/organizations/:org_id/api-keys/:key_id',
    path: (c) => `/v1/organizations/${c.orgId}/api-keys/${c.apiKeyId}`,
    needs: 'manage:keys',
  },
  {
    method: 'PATCH',
    route: '/v1/organizations/:org_id/api-keys/:key_id',
    path: (c) => `/v1/organizations/${c.orgId}/api-keys/${c.spareKeyId}`,
    body: () => ({ key_name: 'renamed by matrix' }),
    needs: 'manage:keys',
    spareKey: true,
    grants: [() => ({ scopes: ALL_SCOPES })],
  },
  {
    method: 'DELETE',
    route: '/v1/organizations/:org_id/api-keys/:key_id',
    path: (c) => `/v1/organizations/${c.orgId}/api-keys/${c.spareKeyId}`,
    needs: 'manage:keys',
    spareKey: true,
  },
  {
    method: 'POST',
    route: '/v1/organizations/:org_id/api-keys/:key_id/activate',
    path: (c) => `/v1/organizations/${c.orgId}/api-keys/${c.spareKeyId}/activate`,
    needs: 'manage:keys',
    spareKey: true,
  },
  {
    method: 'POST',
    route: '/v1/organizations/:org_id/api-keys/:key_id/deactivate',
    path: (c) => `/v1/organizations/${c.orgId}/api-keys/${c.spareKeyId}/deactivate`,
    needs: 'manage:keys',
    spareKey: true,
  },
  {
    method: 'POST',
    route: '/v1/organizations/:org_id/api-keys/:key_id/pause',
    path: (c) => `/v1/organizations/${c.orgId}/api-keys/${c.spareKeyId}/pause`,
    needs: 'manage:keys',
    spareKey: true,
  },
  {
    method: 'GET',
    route: '/v1/analytics/usage/limits/:org_id',
    path: (c) => `/v1/analytics/usage/limits/${c.orgId}?month=11&year=2025`,
    needs: 'read:usage',
  },
  {
    method: 'PUT',
    route: '/v1/analytics/usage/limits/:org_id',
    path: (c) => `/v1/analytics/usage/limits/${c.orgId}`,
    body: (c) => ({ api_key_id: c.spareKeyId, api_key_limit: 100 }),
    needs: 'manage:keys',
    spareKey: true,
  },
  {
    method: 'POST',
    route: '/v1/usage/authorize',
    path: () => '/v1/usage/authorize',
    body: (c) => ({ organization_id: c.orgId, api_key_id: c.apiKeyId, estimated_cost: 0.01 }),
    needs: 'write:usage',
  },
  { method: 'GET', route: '/v1/me', path: () => '/v1/me', needs: 'authenticated' },
  {
    method: 'GET',
    route: '/v1/pricing',
    path: () => '/v1/pricing?at=2025-11-01T00:00:00Z',
    needs: 'authenticated',
  },
  {
    method: 'PUT',
    route: '/v1/pricing/models/:model',
    path: () => '/v1/pricing/models/matrix-model',
    body: () => ({
      neurons_chf_per_million: 8,
      synapses_chf_per_million: '1.5',
      effective_from: '2025-01-01T00:00:00Z',
    }),
    needs: 'admin',
  },
  {
    method: 'PUT',
    route: '/v1/pricing/organizations/:org_id/models/:model',
    path: (c) => `/v1/pricing/organizations/${c.orgId}/models/matrix-model`,
    body: () => ({
      neurons_chf_per_million: 7,
      synapses_chf_per_million: '1.25',
      cached_neurons_chf_per_million: '0.7',
      effective_from: '2025-01-01T00:00:00Z',
    }),
    needs: 'admin',
  },
  { method: 'GET', route: '/v1/pricing/unpriced', path: () => '/v1/pricing/unpriced', needs: 'admin' },
  {
    method: 'POST',
    route: '/v1/pricing/reprice',
    path: () => '/v1/pricing/reprice',
    body: () => ({ model: 'matrix-model' }),
    needs: 'admin',
  },
  { method: 'GET', route: '/v1/admin-keys', path: () => '/v1/admin-keys?page=1&page_size=5', needs: 'admin' },
  {
    method: 'POST',
    route: '/v1/admin-keys',
    path: () => '/v1/admin-keys',
    body: () => ({ key_name: 'matrix admin' }),
    needs: 'admin',
  },
  {
    method: 'GET',
    route: '/v1/admin-keys/:key_id',
    path: (c) => `/v1/admin-keys/${c.spareAdminKeyId}`,
    needs: 'admin',
    spareAdminKey: true,
  },
  {
    method: 'DELETE',
    route: '/v1/admin-keys/:key_id',
    path: (c) => `/v1/admin-keys/${c.spareAdminKeyId}`,
    needs: 'admin',
    spareAdminKey: true,
  },
  {
    method: 'POST',
    route: '/v1/admin-keys/:key_id/rotate',
    path: (c) => `/v1/admin-keys/${c.spareAdminKeyId}/rotate`,
    needs: 'admin',
    spareAdminKey: true,
  },
];
