/**
 * The interactive API reference at /docs: Swagger UI (@fastify/swagger-ui), with its assets
 * served from disk. Few requests ever come here, and loading the plugin (its file server and a
 * YAML library) took about a seventh of a server's start-up; so the routes here are a
 * doorway, and the plugin is loaded and mounted on a small app of its own at the first request,
 * which is then handed on to it. Its answers come back unchanged; its failures become ours,
 * in the envelope.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from './error-envelope.ts';

const DOCS_PREFIX = '/docs';

/** Headers of the inner answer that belong to its own connection, not to the one forwarded on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date', 'content-length']);

export function registerDocsPage(app: FastifyInstance, openApiPath: string): void {
  let inner: Promise<FastifyInstance> | undefined;
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isCanonical(request.url)) throw notFound(request);
    inner ??= mountSwaggerUi(app, openApiPath).catch((error: unknown) => {
      inner = undefined;
      throw error;
    });
    // Always a GET: a HEAD reaches this handler through Fastify's HEAD route, which drops the body.
    const answer = await (await inner).inject({
      method: 'GET',
      url: request.url,
      headers: request.headers,
    });
    if (answer.statusCode === 404) throw notFound(request);
    if (answer.statusCode >= 400) {
      // The file server's refusals (a forbidden path, a range past the end): thrown as it threw
      // them, so that the error handler answers them as it answers any library's.
      let refusal: { message?: string; code?: string } = {};
      try {
        refusal = answer.json();
      } catch {
        // Not the JSON of a Fastify error: the status alone says what happened.
      }
      throw Object.assign(new Error(refusal.message ?? `status ${answer.statusCode}`), {
        statusCode: answer.statusCode,
        code: refusal.code,
      });
    }
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) reply.header(name, value);
    }
    return reply.code(answer.statusCode).send(answer.rawPayload);
  };
  app.addHook('onClose', async () => {
    if (inner) await (await inner.catch(() => undefined))?.close();
  });
  // Hidden from the OpenAPI document: the page that shows it is not part of it.
  const schema = { hide: true };
  app.get(DOCS_PREFIX, { schema }, handler);
  app.get(`${DOCS_PREFIX}/*`, { schema }, handler);
}

async function mountSwaggerUi(app: FastifyInstance, openApiPath: string): Promise<FastifyInstance> {
  const [{ default: Fastify }, { default: swagger }, { default: swaggerUi }] = await Promise.all([
    import('fastify'),
    import('@fastify/swagger'),
    import('@fastify/swagger-ui'),
  ]);
  const inner = Fastify({ logger: false });
  // The plugin's own copy of the document (/docs/json, /docs/yaml) is the served one.
  await inner.register(swagger, { mode: 'static', specification: { document: app.swagger() as never } });
  await inner.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    // The plugin points Swagger UI at its copy under /docs (`url`); a list of documents (`urls`)
    // takes precedence, so the page loads the one at /openapi.json.
    uiConfig: { urls: [{ url: openApiPath, name: 'Freddy Analytics API' }], docExpansion: 'list', deepLinking: true },
  });
  await inner.ready();
  return inner;
}

/**
 * Whether a path is the one way of naming its file: no `.` or `..` segment, no empty segment,
 * no backslash, in any spelling. Handing the path on normalizes it (`/docs/static/./x` would
 * become `/docs/static/x`), so the file server would no longer see what it refuses.
 */
function isCanonical(url: string): boolean {
  let path: string;
  try {
    path = decodeURIComponent(url.split('?')[0]!);
  } catch {
    return false;
  }
  const segments = path.split('/').slice(1);
  const last = segments.pop();
  const dots = (segment: string | undefined) => segment === '.' || segment === '..';
  return !path.includes('\\') && !dots(last) && segments.every((segment) => segment !== '' && !dots(segment));
}
