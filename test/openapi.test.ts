/**
 * The OpenAPI document: valid OpenAPI 3.1, complete (every registered route with its method),
 * honest about authentication and errors, and its examples match both the schemas they
 * illustrate and the real answers of their routes. On both engines, since the examples are
 * compared with answers read from the database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { sql } from 'kysely';
import { openApiPath } from '../src/http/openapi.ts';
import { RESPONSE_EXAMPLES } from '../src/http/openapi-examples.ts';
import { CHF, DIALECTS, ingest, makeApiKey, makeOrg, startTestServer, type TestServer } from './harness.ts';

type Operation = {
  security?: Array<Record<string, string[]>>;
  parameters?: unknown[];
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string }; example?: unknown }> }>;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

const ENVELOPE_REF = '#/components/schemas/ErrorEnvelope';

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

    it('marks every authenticated route with the security scheme and its error answers', () => {
      for (const route of server.app.routeCatalog.filter((r) => !r.hidden)) {
        const operation = doc.paths[openApiPath(route.url)]![route.method.toLowerCase()]!;
        const name = `${route.method} ${route.url}`;
        if (!route.access) {
          assert.equal(operation.security, undefined, `${name} is public`);
          continue;
        }
        assert.deepEqual(operation.security, [{ ApiKey: [] }, { ApiKeyAlternative: [] }], name);
        const errors = ['401', '403', '500', '503'];
        // Anything with input to validate can answer 400.
        if (operation.parameters?.length || operation.requestBody) errors.push('400');
        if (operation.requestBody) errors.push('413', '415');
        for (const status of errors) {
          const schema = operation.responses[status]?.content?.['application/json']?.schema;
          assert.equal(schema?.$ref, ENVELOPE_REF, `${name} declares ${status} as the error envelope`);
        }
      }
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
