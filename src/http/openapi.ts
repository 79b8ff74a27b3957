/**
 * The OpenAPI 3.1 document at /openapi.json and its interactive reference at /docs. The
 * document is generated from the route declarations themselves (the schemas that validate
 * requests and shape responses), so it cannot drift from what the server does. What follows
 * from the kind of route (security, error answers, operationId) is added by
 * openapi-operations.ts; titled schemas become named components (openapi-components.ts).
 */
import fs from 'node:fs';
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { fromRoot } from '../project-root.ts';
import { registerDocsPage } from './docs-page.ts';
import { hoistTitledSchemas } from './openapi-components.ts';
import { RESPONSE_EXAMPLES } from './openapi-examples.ts';
import { documentedSchema, type OperationOptions } from './openapi-operations.ts';

export const OPENAPI_PATH = '/openapi.json';

const { version, license } = JSON.parse(fs.readFileSync(fromRoot('package.json'), 'utf8')) as {
  version: string;
  license: string;
};

export async function registerOpenApi(app: FastifyInstance, options: OperationOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Freddy Analytics API',
        version,
        license: { name: license, identifier: license },
        description:
          'Usage metering, cost analytics and spend limits for AI API platforms. Money is CHF; months are UTC calendar months. Every non-2xx answer is the ErrorEnvelope.',
      },
      // Relative: the server this document was fetched from, wherever it is deployed.
      servers: [{ url: '/', description: 'This server' }],
      components: {
        securitySchemes: {
          ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key secret (`fak_…`)' },
          ApiKeyAlternative: { type: 'apiKey', in: 'header', name: 'Api-Key', description: 'Same as X-API-Key' },
        },
      },
      tags: [
        { name: 'analytics', description: 'Usage and cost of an organization' },
        { name: 'usage', description: 'Reporting usage events' },
        { name: 'operations', description: 'Health, metrics and this document' },
      ],
    },
    // Shared schemas (the ErrorEnvelope) become components named by their $id.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transform: ({ schema, url, route }) => ({ schema: schema && documentedSchema(schema, route, options), url }),
    transformObject: (document) => {
      if (!('openapiObject' in document)) return {};
      hoistTitledSchemas(document.openapiObject);
      return withExamples(document.openapiObject);
    },
  });

  app.get(
    OPENAPI_PATH,
    { schema: { summary: 'This OpenAPI 3.1 document', operationId: 'getOpenApiDocument', tags: ['operations'] } },
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(app.swagger()),
  );

  registerDocsPage(app, OPENAPI_PATH);
}

type Document = Record<string, unknown> & { paths?: Record<string, Record<string, Operation>> };
type Operation = { responses?: Record<string, { content?: Record<string, { example?: unknown }> }> };

/** Adds the documented examples to the responses of the routes they belong to. */
function withExamples<T extends object>(document: T): T {
  const paths = (document as Document).paths ?? {};
  for (const [key, byStatus] of Object.entries(RESPONSE_EXAMPLES)) {
    const [method, route] = key.split(' ') as [string, string];
    const operation = paths[openApiPath(route)]?.[method.toLowerCase()];
    for (const [status, example] of Object.entries(byStatus)) {
      const media = operation?.responses?.[status]?.content?.['application/json'];
      if (media) media.example = example;
    }
  }
  return document;
}

/** `/v1/x/:org_id` → `/v1/x/{org_id}`, as OpenAPI writes path parameters. */
export function openApiPath(route: string): string {
  return route.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}
