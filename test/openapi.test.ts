/**
 * The OpenAPI document: valid OpenAPI 3.1, complete (every registered route with its method),
 * honest about authentication and errors, and its examples match the schemas they illustrate.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { openApiPath } from '../src/http/openapi.ts';
import { RESPONSE_EXAMPLES } from '../src/http/openapi-examples.ts';
import { DIALECTS, startTestServer, type TestServer } from './harness.ts';

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

// The document does not depend on the engine; one is enough.
describe(`OpenAPI document [${DIALECTS[0]}]`, () => {
  let server: TestServer;
  let doc: Document;

  before(async () => {
    server = await startTestServer(DIALECTS[0] ?? 'sqlite');
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

  it('shows the documented examples, and each matches its response schema', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ ...doc, $id: 'openapi' });
    let checked = 0;
    for (const [key, byStatus] of Object.entries(RESPONSE_EXAMPLES)) {
      const [method, route] = key.split(' ') as [string, string];
      const pointer = ['paths', openApiPath(route), method.toLowerCase(), 'responses'];
      for (const [status, example] of Object.entries(byStatus)) {
        const media =
          doc.paths[openApiPath(route)]?.[method.toLowerCase()]?.responses[status]?.content?.['application/json'];
        assert.deepEqual(media?.example, example, `${key} ${status} shows its example`);
        const ref = `openapi#/${[...pointer, status, 'content', 'application/json', 'schema'].map(pointerSegment).join('/')}`;
        const validate = ajv.compile({ $ref: ref });
        assert.ok(validate(example), `${key} ${status}: ${JSON.stringify(validate.errors)}`);
        checked++;
      }
    }
    assert.ok(checked >= 12);
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
});

/** JSON pointer escaping of one segment. */
function pointerSegment(segment: string): string {
  return encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));
}
