/**
 * buildApp(ctx): the HTTP application with every route, never listening by itself, so that
 * tests inject into it and `main.ts` decides where it listens.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { AppContext } from './context.ts';
import { dashboardRoutes } from './dashboard/dashboard.routes.ts';
import { AppError } from './errors.ts';
import { clientErrorHandler } from './http/client-errors.ts';
import { ErrorEnvelope, notFound, sendError, toAppError } from './http/error-envelope.ts';
import { frameworkErrors } from './http/framework-errors.ts';
import { healthRoutes } from './http/health.routes.ts';
import { registerMetrics } from './http/metrics.ts';
import { registerOpenApi } from './http/openapi.ts';
import { registerRateLimit } from './http/rate-limit.ts';
import { serializerCompiler } from './http/serializer.ts';
import { registerTextChecks } from './http/text-input.ts';
import { validatorCompiler } from './http/validation.ts';
import { adminKeyRoutes } from './modules/admin-keys/admin-keys.routes.ts';
import { analyticsRoutes } from './modules/analytics/analytics.routes.ts';
import { breakdownRoutes } from './modules/analytics/breakdown.routes.ts';
import { seriesRoutes } from './modules/analytics/series.routes.ts';
import { usagePatternRoutes } from './modules/analytics/usage-patterns.routes.ts';
import { apiKeyRoutes } from './modules/api-keys/api-keys.routes.ts';
import { registerAuth } from './modules/auth/auth.plugin.ts';
import { meRoutes } from './modules/auth/me.routes.ts';
import type { Access } from './modules/auth/principal.ts';
import { ingestionRoutes } from './modules/ingestion/ingestion.routes.ts';
import { limitsRoutes } from './modules/limits/limits.routes.ts';
import { orgRoutes } from './modules/orgs/orgs.routes.ts';
import { pricingRoutes } from './modules/pricing/pricing.routes.ts';

/** How the app is built beyond its context. */
export interface AppOptions {
  /** Where log lines go; defaults to standard output. */
  logStream?: { write(line: string): void };
  /**
   * Once listening, compile the request validators not used yet, one at a time between
   * requests, so that the first request of each kind does not pay for it: a server's choice.
   * An app built for a short while (a test) leaves each to be compiled when first used.
   */
  warmUp?: boolean;
}

/** A registered route, as the OpenAPI document and the access-matrix tests see it. */
export interface RouteEntry {
  method: string;
  url: string;
  access: Access | undefined;
  /** Left out of the OpenAPI document. */
  hidden?: true;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeCatalog: RouteEntry[];
  }
}

export async function buildApp(ctx: AppContext, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: ctx.config.logLevel,
      ...(options.logStream ? { stream: options.logStream } : {}),
      redact: { paths: ['req.headers["x-api-key"]', 'req.headers["api-key"]'], censor: '[redacted]' },
    },
    genReqId: () => randomUUID(),
    logController: new LogController({ requestIdLogLabel: 'trace_id', disableRequestLogging: true }),
    bodyLimit: ctx.config.bodyLimit,
    requestTimeout: ctx.config.requestTimeoutMs,
    ...connectionLimits(ctx.config),
    frameworkErrors,
    clientErrorHandler,
    // Fastify's own 503 while closing is not our envelope; the onRequest hook below answers instead.
    return503OnClosing: false,
  });

  app.decorate('routeCatalog', [] as RouteEntry[]);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      const entry: RouteEntry = { method, url: route.url, access: route.config?.access };
      // The /docs page's own assets are not part of the API, but the access tests still see them.
      app.routeCatalog.push(route.schema?.hide ? { ...entry, hidden: true } : entry);
    }
  });

  // The API speaks JSON only; any other body is a 415, not a string that fails validation.
  app.removeContentTypeParser(['text/plain']);
  const validators = validatorCompiler(ctx.clock);
  app.setValidatorCompiler(validators.compiler);
  if (options.warmUp) {
    app.addHook('onListen', async () => {
      setImmediate(validators.warmUp).unref();
    });
  }
  app.setSerializerCompiler(serializerCompiler);
  app.addSchema(ErrorEnvelope);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-trace-id', request.id);
  });

  // During a graceful shutdown, requests that still arrive on open connections are refused
  // before they touch the database; in-flight ones finish.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) throw new AppError('SERVICE_UNAVAILABLE', { systemMessage: 'The server is shutting down' });
  });
  // Answers finished while closing tell the client not to reuse the connection.
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  // One line per request: trace id, route, status, duration, organization. Never headers.
  app.addHook('onResponse', async (request, reply) => {
    const principal = request.principal;
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unknown',
        url: request.url.split('?')[0],
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 100) / 100,
        organization_id:
          (request.params as { org_id?: string } | undefined)?.org_id ??
          (principal?.kind === 'api_key' ? principal.organizationId : undefined),
        key_id: principal ? (principal.kind === 'admin' ? principal.keyId : principal.apiKeyId) : undefined,
      },
      'request',
    );
  });

  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error, request);
    if (appError.code === 'INTERNAL_ERROR') request.log.error({ err: error }, 'unhandled error');
    else if (appError.code === 'SERVICE_UNAVAILABLE' && !(error instanceof AppError)) {
      request.log.warn({ err: error }, 'database unavailable');
    }
    return sendError(request, reply, appError);
  });

  // A pooled connection that failed has been dropped already; the requests using it fail with
  // a 503 of their own, and the next ones connect anew.
  const stopListening = ctx.storage.onConnectionLost((error) =>
    app.log.warn({ err: error }, 'database connection lost'),
  );
  app.addHook('onClose', async () => stopListening());

  app.setNotFoundHandler((request, reply) => sendError(request, reply, notFound(request)));

  await registerOpenApi(app, { rateLimited: (ctx.config.rateLimitPerMinute ?? 0) > 0 });
  registerMetrics(app, ctx);
  registerAuth(app, ctx);
  registerTextChecks(app);
  registerRateLimit(app, ctx.rateLimiter);
  await app.register(healthRoutes, ctx);
  await app.register(orgRoutes, ctx);
  await app.register(meRoutes, ctx);
  await app.register(apiKeyRoutes, ctx);
  await app.register(adminKeyRoutes, ctx);
  await app.register(ingestionRoutes, ctx);
  await app.register(analyticsRoutes, ctx);
  await app.register(breakdownRoutes, ctx);
  await app.register(pricingRoutes, ctx);
  await app.register(limitsRoutes, ctx);
  await app.register(seriesRoutes, ctx);
  await app.register(usagePatternRoutes, ctx);
  await app.register(dashboardRoutes);
  return app;
}

/**
 * Bounds on slow clients: headers must arrive within `headersTimeoutMs` (checked every second,
 * not Node's default 30 s), and idle keep-alive connections close after `keepAliveTimeoutMs`.
 */
function connectionLimits(config: AppContext['config']) {
  if (config.headersTimeoutMs === undefined) return {};
  return {
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: {
      headersTimeout: Math.min(config.headersTimeoutMs, config.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(1_000, config.headersTimeoutMs),
    },
  };
}
