/**
 * The OpenAPI document: valid OpenAPI 3.1, clean under redocly's recommended lint rules,
 * complete (every registered route with its method), honest about authentication and errors,
 * with named body schemas and stable operation ids for client generators, and examples that
 * match both the schemas they illustrate and the real answers of their routes. On both
 * engines, since the examples are compared with answers read from the database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { sql } from 'kysely';
import { openApiPath } from '../src/http/openapi.ts';
import { RESPONSE_EXAMPLES } from '../src/http/openapi-examples.ts';
import { appOver, CHF, DIALECTS, ingest, makeApiKey, makeOrg, startTestServer, type TestServer } from './harness.ts';

type Media = { schema?: { $ref?: string }; example?: unknown };
type Operation = {
  operationId?: string;
  summary?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: unknown[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { description?: string; content?: Record<string, Media> }>;
};
type Document = {
  openapi: string;
  servers?: Array<{ url: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

const ENVELOPE_REF = '#/components/schemas/ErrorEnvelope';
const API_KEY_SECURITY = [{ ApiKey: [] }, { ApiKeyAlternative: [] }];

/**
 * Client generators name their methods after these: changing one breaks the clients built
 * from the document. Routes without a declared `operationId` get one from their summary, so
 * to reword a summary and keep the id, declare the id in the route.
 */
const OPERATION_IDS: Record<string, string> = {
  'GET /openapi.json': 'getOpenApiDocument',
  'GET /metrics': 'getMetrics',
  'GET /healthz': 'getHealth',
  'GET /readyz': 'getReadiness',
  'POST /v1/organizations': 'createOrganization',
  'GET /v1/organizations': 'listOrganizations',
  'GET /v1/organizations/{org_id}': 'getOrganization',
  'PATCH /v1/organizations/{org_id}': 'renameOrganization',
  'POST /v1/organizations/{org_id}/api-keys': 'createApiKey',
  'GET /v1/organizations/{org_id}/api-keys': 'listApiKeys',
  'GET /v1/organizations/{org_id}/api-keys/{key_id}': 'getApiKey',
  'PATCH /v1/organizations/{org_id}/api-keys/{key_id}': 'updateApiKey',
  'DELETE /v1/organizations/{org_id}/api-keys/{key_id}': 'deleteApiKey',
  'POST /v1/organizations/{org_id}/api-keys/{key_id}/activate': 'activateApiKey',
  'POST /v1/organizations/{org_id}/api-keys/{key_id}/deactivate': 'deactivateApiKey',
  'POST /v1/organizations/{org_id}/api-keys/{key_id}/pause': 'pauseApiKey',
  'GET /v1/admin-keys': 'listPlatformAdminKeys',
  'POST /v1/admin-keys': 'createPlatformAdminKey',
  'GET /v1/admin-keys/{key_id}': 'getPlatformAdminKey',
  'DELETE /v1/admin-keys/{key_id}': 'deletePlatformAdminKey',
  'POST /v1/admin-keys/{key_id}/rotate': 'rotatePlatformAdminKey',
  'POST /v1/usage/events': 'reportUsageEvents',
  'GET /v1/analytics/usage/summary/{org_id}': 'getUsageSummary',
  'GET /v1/analytics/api-keys/summary/{org_id}': 'getApiKeyUsageSummary',
  'GET /v1/analytics/api-keys/usage/{org_id}/{api_key_id}': 'getApiKeyUsage',
  'GET /v1/pricing': 'getPriceSheet',
  'PUT /v1/pricing/models/{model}': 'addPrice',
  'PUT /v1/pricing/organizations/{org_id}/models/{model}': 'addOrganizationPrice',
  'GET /v1/pricing/unpriced': 'listModelsWithoutPrice',
  'POST /v1/pricing/reprice': 'repriceStoredEvents',
  'GET /v1/analytics/usage/limits/{org_id}': 'getUsageLimits',
  'PUT /v1/analytics/usage/limits/{org_id}': 'updateUsageLimits',
  'POST /v1/usage/authorize': 'authorizeSpend',
  'GET /v1/analytics/usage/daily/{org_id}': 'getDailyUsage',
  'GET /v1/analytics/usage/monthly/{org_id}': 'getMonthlyUsage',
  'GET /v1/analytics/usage/yearly/{org_id}': 'getYearlyUsage',
  'GET /v1/analytics/api-keys/daily/{org_id}': 'getDailyApiKeyUsage',
  'GET /v1/analytics/{org_id}/api-keys/top/{month}/{year}': 'getTopApiKeys',
  'GET /v1/analytics/usage/hourly/{org_id}': 'getHourlyUsage',
  'GET /v1/analytics/usage/heatmap/{org_id}': 'getUsageHeatmap',
  'GET /v1/analytics/usage/trends/{org_id}': 'getUsageTrends',
  'GET /v1/analytics/usage/breakdown/{org_id}': 'getUsageBreakdown',
  'GET /': 'redirectToDashboard',
  'GET /dashboard': 'getDashboard',
  'GET /dashboard/dashboard.css': 'getDashboardStylesheet',
  'GET /dashboard/dashboard.js': 'getDashboardScript',
  'GET /dashboard/charts.js': 'getDashboardCharts',
  'GET /dashboard/breakdown.js': 'getDashboardBreakdown',
  'GET /dashboard/format.js': 'getDashboardFormat',
  'GET /dashboard/assets/chart.umd.js': 'getChartJs',
  'GET /dashboard/favicon.svg': 'getDashboardIcon',
  'GET /favicon.ico': 'getFavicon',
  'GET /v1/me': 'describeCallingKey',
};

/** Body schemas of the routes as generators name them (a few of each kind; the test below checks that all are named). */
const NAMED_BODIES: Record<string, { request?: string; response: string }> = {
  'GET /v1/analytics/usage/summary/{org_id}': { response: 'UsageSummary' },
  'GET /v1/analytics/api-keys/summary/{org_id}': { response: 'ApiKeysSummary' },
  'GET /v1/analytics/api-keys/usage/{org_id}/{api_key_id}': { response: 'ApiKeyUsage' },
  'POST /v1/usage/events': { request: 'UsageEventBatch', response: 'IngestResult' },
  'POST /v1/organizations/{org_id}/api-keys': { request: 'NewApiKey', response: 'CreatedApiKey' },
  'GET /v1/organizations/{org_id}/api-keys': { response: 'ApiKeyList' },
  'GET /v1/analytics/usage/limits/{org_id}': { response: 'UsageLimits' },
  'POST /v1/usage/authorize': { request: 'SpendRequest', response: 'SpendAuthorization' },
  'GET /v1/pricing': { response: 'PriceSheet' },
  'GET /v1/analytics/usage/daily/{org_id}': { response: 'DailyUsage' },
};

/** Operations of a document, as `METHOD /path`. */
function operations(doc: Document): Array<[string, Operation]> {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]): [string, Operation] => [
      `${method.toUpperCase()} ${path}`,
      operation,
    ]),
  );
}

for (const dialect of DIALECTS) {
  describe(`OpenAPI document [${dialect}]`, () => {
    let server: TestServer;
    let doc: Document;

    before(async () => {
      server = await startTestServer(dialect);
      const response = await server.request('GET', '/openapi.json');
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      doc = response.body;
    });
    after(async () => server.close());

    it('is valid OpenAPI 3.1', async () => {
      const validator = new Validator();
      const result = await validator.validate(structuredClone(doc));
      assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
      assert.equal(validator.version, '3.1');
      assert.match(doc.openapi, /^3\.1\./);
    });

    it('lists every registered route with its method', () => {
      const missing = server.app.routeCatalog
        .filter((route) => !route.hidden)
        .filter((route) => !doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()])
        .map((route) => `${route.method} ${route.url}`);
      assert.deepEqual(missing, []);
      assert.ok(server.app.routeCatalog.length >= 20, 'the catalog is the real one');
    });

    it('declares the API key schemes and the error envelope as components', () => {
      assert.deepEqual(doc.components.securitySchemes.ApiKey, {
        type: 'apiKey',
        in: 'header',
        name: 'X-API-Key',
        description: 'An API key secret (`fak_…`)',
      });
      assert.equal((doc.components.securitySchemes.ApiKeyAlternative as { name: string }).name, 'Api-Key');
      const envelope = doc.components.schemas.ErrorEnvelope as { properties: Record<string, unknown> };
      assert.deepEqual(Object.keys(envelope.properties), ['success', 'error']);
    });

    it('has no errors under the recommended rules of redocly lint', async () => {
      const problems = await lintFromString({
        source: JSON.stringify(doc),
        absoluteRef: `${server.baseUrl}/openapi.json`,
        config: await createConfig({ extends: ['recommended'] }),
      });
      const line = (p: (typeof problems)[number]) => `${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`;
      assert.deepEqual(problems.filter((p) => p.severity === 'error').map(line), []);
      // The one warning left: the public routes take no input, so they have no 4xx answer to list.
      const publicPaths = ['/openapi.json', '/metrics', '/healthz', '/readyz', '/dashboard', '/favicon.ico'];
      const isPublic = (path: string) => path === '/' || publicPaths.some((p) => path.startsWith(p));
      for (const warning of problems.filter((p) => p.severity === 'warn')) {
        const path = decodeURIComponent(warning.location[0]!.pointer!.split('/')[2]!).replaceAll('~1', '/');
        // `/` only redirects a browser to the dashboard: it has no 2xx answer either.
        if (path === '/' && warning.ruleId === 'operation-2xx-response') continue;
        assert.equal(warning.ruleId, 'operation-4xx-response', line(warning));
        assert.ok(isPublic(path), line(warning));
      }
      assert.deepEqual(doc.servers, [{ url: '/', description: 'This server' }]);
    });

    it('gives every operation a summary, a stable unique operationId, and its success answer a description', () => {
      const ids: Record<string, string> = {};
      for (const [name, operation] of operations(doc)) {
        ids[name] = operation.operationId ?? '';
        assert.ok(operation.summary, `${name} has a summary`);
        assert.match(ids[name], /^[a-z][A-Za-z0-9]*$/, `${name}: camelCase`);
        for (const [status, response] of Object.entries(operation.responses)) {
          assert.ok(response.description && response.description !== 'Default Response', `${name} ${status}`);
        }
      }
      assert.deepEqual(ids, OPERATION_IDS);
      assert.equal(new Set(Object.values(ids)).size, Object.keys(ids).length, 'operation ids are unique');
    });

    it('names every JSON body schema, so that generated clients get named types', () => {
      const ref = (media: Media | undefined) => media?.schema?.$ref?.replace('#/components/schemas/', '');
      for (const [name, operation] of operations(doc)) {
        const bodies = [
          ['request', operation.requestBody?.content['application/json']],
          ...Object.entries(operation.responses)
            .filter(([status]) => status.startsWith('2'))
            .map(([status, response]) => [status, response.content?.['application/json']] as const),
        ] as const;
        for (const [which, media] of bodies) {
          if (!media) continue;
          const component = ref(media);
          assert.ok(component && component in doc.components.schemas, `${name} ${which}: ${JSON.stringify(media)}`);
          assert.match(component, /^[A-Z][A-Za-z]+$/);
        }
        const expected = NAMED_BODIES[name];
        if (expected) {
          const success = Object.entries(operation.responses).find(([status]) => status.startsWith('2'))![1];
          assert.equal(ref(success.content?.['application/json']), expected.response, name);
          if (expected.request) assert.equal(ref(operation.requestBody?.content['application/json']), expected.request);
        }
      }
      // Nested shared shapes are named too.
      const list = doc.components.schemas.ApiKeyList as { properties: Record<string, any> };
      assert.equal(list.properties.api_keys.items.$ref, '#/components/schemas/ApiKey');
      assert.equal(list.properties.pagination.$ref, '#/components/schemas/Pagination');
    });

    it('lists on each operation its security and the error answers it can give, and no others', () => {
      checkSecurityAndErrors(server.app.routeCatalog, doc, { rateLimited: false });
    });

    it('lists 429 on every authenticated route when the rate limit is on', async () => {
      const app = await appOver({
        storage: server.storage,
        config: {
          bodyLimit: 1_048_576,
          requestTimeoutMs: 30_000,
          logLevel: 'silent',
          reservationTtlSeconds: 300,
          rateLimitPerMinute: 100,
        },
        clock: Date.now,
      });
      try {
        const limited = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as Document;
        checkSecurityAndErrors(app.routeCatalog, limited, { rateLimited: true });
      } finally {
        await app.close();
      }
    });

    it('points the /docs page at /openapi.json', async () => {
      const page = await server.request('GET', '/docs/');
      const initializer = page.text.match(/src="([^"]*swagger-initializer\.js)"/)?.[1];
      assert.ok(initializer, page.text);
      const script = await server.request('GET', new URL(initializer, `${server.baseUrl}/docs/`).pathname);
      assert.equal(script.status, 200);
      // Swagger UI loads the first of `urls` and ignores `url` (the plugin's own copy at /docs/json).
      const config = JSON.parse(script.text.match(/const config = (\{.*\})\n/)![1]!);
      assert.deepEqual(config.urls, [{ url: '/openapi.json', name: 'Freddy Analytics API' }]);
    });

    it('serves an interactive reference at /docs from local assets', async () => {
      const page = await server.request('GET', '/docs/');
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      assert.ok(assets.some((a) => a.endsWith('swagger-ui-bundle.js')));
      for (const asset of assets) {
        assert.doesNotMatch(asset, /^(https?:)?\/\//, 'no asset comes from another host');
        const loaded = await server.request('GET', new URL(asset, `${server.baseUrl}/docs/`).pathname);
        assert.equal(loaded.status, 200, asset);
      }
    });

    // Last: it breaks the database to get a real 500.
    it('shows examples that match their response schema and the real answers of their routes', async () => {
      const ajv = new Ajv2020({ strict: false, allErrors: true });
      addFormats.default(ajv);
      ajv.addSchema({ ...doc, $id: 'openapi' });
      const answers = await realAnswers(server);
      let checked = 0;
      for (const [key, byStatus] of Object.entries(RESPONSE_EXAMPLES)) {
        const [method, route] = key.split(' ') as [string, string];
        const pointer = ['paths', openApiPath(route), method.toLowerCase(), 'responses'];
        for (const [status, example] of Object.entries(byStatus)) {
          const media =
            doc.paths[openApiPath(route)]?.[method.toLowerCase()]?.responses[status]?.content?.['application/json'];
          assert.ok(media?.example, `${key} ${status} shows an example`);
          const ref = `openapi#/${[...pointer, status, 'content', 'application/json', 'schema'].map(pointerSegment).join('/')}`;
          const validate = ajv.compile({ $ref: ref });
          assert.ok(validate(example), `${key} ${status}: ${JSON.stringify(validate.errors)}`);
          const answer = answers[key]?.[status];
          assert.ok(answer, `no real answer for ${key} ${status}`);
          assert.equal(answer.status, Number(status), `${key}: ${answer.text}`);
          assert.ok(validate(answer.body), `${key} ${status} real answer: ${JSON.stringify(validate.errors)}`);
          assert.deepEqual(
            shapeOf(answer.body),
            shapeOf(example),
            `${key} ${status}: the example has the answer's shape`,
          );
          if (Number(status) >= 400) {
            const fixed = (e: any) => ({
              code: e.error.code,
              status: e.error.status,
              type: e.error.type,
              message: e.error.message,
              system_message: e.error.system_message,
              details: Object.keys(e.error.details ?? {}).sort(),
            });
            assert.deepEqual(
              fixed(example),
              fixed(answer.body),
              `${key} ${status}: the example says what the route says`,
            );
          }
          checked++;
        }
      }
      assert.equal(checked, Object.values(RESPONSE_EXAMPLES).flatMap((e) => Object.keys(e)).length);
    });
  });
}

/**
 * What an operation must say: public routes need no key and can only be refused while the
 * server shuts down (503); authenticated routes list the API key schemes, 401, 500 and 503,
 * 403 when a key can be refused (a scope, a platform admin key, or an organization in the
 * path or the query), and 429 when the rate limit is on (or the route declares its own, the spend limit).
 * Whatever takes input can answer 400, and a body 413 and 415.
 */
function checkSecurityAndErrors(
  catalog: TestServer['app']['routeCatalog'],
  doc: Document,
  options: { rateLimited: boolean },
): void {
  for (const route of catalog.filter((r) => !r.hidden)) {
    const operation = doc.paths[openApiPath(route.url)]![route.method.toLowerCase()]!;
    const name = `${route.method} ${route.url}`;
    const statuses = Object.keys(operation.responses);
    const errors = statuses.filter((status) => Number(status) >= 400);
    for (const status of errors) {
      const media = operation.responses[status]!.content?.['application/json'];
      assert.equal(media?.schema?.$ref, ENVELOPE_REF, `${name} declares ${status} as the error envelope`);
    }
    if (!route.access) {
      assert.deepEqual(operation.security, [], `${name} is public`);
      assert.ok(errors.includes('503'), `${name}: 503 while shutting down`);
      for (const status of ['401', '403', '429'])
        assert.ok(!errors.includes(status), `${name} cannot answer ${status}`);
      continue;
    }
    assert.deepEqual(operation.security, API_KEY_SECURITY, name);
    const expected = ['401', '500', '503'];
    const organizationInQuery = (operation.parameters ?? []).some(
      (p) =>
        (p as { in?: string; name?: string }).in === 'query' && (p as { name?: string }).name === 'organization_id',
    );
    const refusable = !('authenticated' in route.access) || route.url.includes(':org_id') || organizationInQuery;
    if (refusable) expected.push('403');
    if (operation.parameters?.length || operation.requestBody) expected.push('400');
    if (operation.requestBody) expected.push('413', '415');
    for (const status of expected) assert.ok(errors.includes(status), `${name} declares ${status}`);
    assert.equal(errors.includes('403'), refusable, `${name}: 403 only where a key can be refused`);
    const spendLimited = name === 'POST /v1/usage/authorize';
    assert.equal(errors.includes('429'), options.rateLimited || spendLimited, `${name}: 429`);
    if (errors.includes('429')) {
      const description = operation.responses['429']!.description!;
      assert.equal(/RATE_LIMIT_EXCEEDED/.test(description), options.rateLimited, `${name}: ${description}`);
      assert.equal(/USAGE_LIMIT_EXCEEDED/.test(description), spendLimited, `${name}: ${description}`);
    }
  }
}

/** Real answers, by route and status, for every example. */
async function realAnswers(server: TestServer) {
  const org = await makeOrg(server);
  const other = await makeOrg(server);
  const key = await makeApiKey(server, org.id, { name: 'Production Key', monthlyLimitNano: 500n * CHF });
  const otherKey = await makeApiKey(server, other.id);
  const now = new Date();
  const [year, month] = [now.getUTCFullYear(), now.getUTCMonth() + 1];
  await ingest(
    server,
    ['gpt-4o', 'gpt-4o-mini'].map((model, i) => ({
      id: `example-${i}`,
      organization_id: org.id,
      api_key_id: key.id,
      model,
      neurons: 1000,
      synapses: 500,
      cost: '1.25',
    })),
  );
  const urls = (orgId: string, keyId: string) => ({
    'GET /v1/analytics/usage/summary/:org_id': `/v1/analytics/usage/summary/${orgId}`,
    'GET /v1/analytics/api-keys/summary/:org_id': `/v1/analytics/api-keys/summary/${orgId}?year=${year}&month=${month}`,
    'GET /v1/analytics/api-keys/usage/:org_id/:api_key_id': `/v1/analytics/api-keys/usage/${orgId}/${keyId}?year=${year}&month=${month}`,
  });
  const answers: Record<string, Record<string, Awaited<ReturnType<TestServer['request']>>>> = {};
  const broken = await makeOrg(server); // never read before the tables go, so no answer of it is kept
  for (const [route, url] of Object.entries(urls(org.id, key.id))) {
    answers[route] = {
      200: await server.request('GET', url, { key: server.adminKey }),
      400: await server.request('GET', `${url.split('?')[0]}?year=${year}&month=13`, { key: server.adminKey }),
      401: await server.request('GET', url),
      403: await server.request('GET', url, { key: otherKey.secret }),
      404: await server.request('GET', url.replace(key.id, 'apikey_123'), { key: server.adminKey }),
    };
  }
  for (const table of ['rollup_org_model_month', 'rollup_key_model_month', 'rollup_key_day']) {
    await sql`drop table ${sql.table(table)}`.execute(server.storage.db);
  }
  for (const [route, url] of Object.entries(urls(broken.id, key.id))) {
    answers[route]![500] = await server.request('GET', url.replace(key.id, (await makeApiKey(server, broken.id)).id), {
      key: server.adminKey,
    });
  }
  return answers;
}

/** Keys (recursively, arrays by their first item) and JSON types, not values. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length > 0 ? [shapeOf(value[0])] : [];
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, shapeOf((value as Record<string, unknown>)[k])]),
    );
  }
  return value === null ? 'null' : typeof value;
}

/** JSON pointer escaping of one segment. */
function pointerSegment(segment: string): string {
  return encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));
}
