/**
 * The server process: config → context (storage migrated) → app → listen, and a graceful close
 * on SIGTERM/SIGINT that stops accepting, finishes in-flight requests, then closes the context.
 */
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { type AppContext, openContext } from './context.ts';
import { countAdminKeys } from './modules/admin-keys/admin-keys.repository.ts';
import { createAdminKey } from './modules/admin-keys/admin-keys.service.ts';
import { migrateToLatest } from './storage/migrate.ts';
import type { Storage } from './storage/storage.ts';

export interface RunningServer {
  app: FastifyInstance;
  ctx: AppContext;
  url: string;
  close(): Promise<void>;
}

export async function startServer(config: Readonly<Config>): Promise<RunningServer> {
  const ctx = await openContext(config);
  const { storage } = ctx;
  await migrateToLatest(storage);
  const warnings = [...(await bootstrapAdminKey(storage)), ...(await storage.settingWarnings())];
  await ctx.start();
  // The SQLite writer thread starts while the app is built.
  const [app] = await Promise.all([
    buildApp(ctx, { warmUp: true, logStream: pino.destination({ dest: 1, sync: false }) }),
    storage.start(),
  ]);
  for (const warning of warnings) app.log.warn(warning);
  // Partitions ahead and retention: now, then every hour, in the background.
  ctx.retention.start(({ removed, error }) => {
    if (error) app.log.error({ err: error }, 'raw event maintenance failed');
    else app.log.info({ removed }, 'raw events past RAW_EVENTS_RETENTION_MONTHS removed');
  });
  // Pulling starts once the storage is writable; a NATS server that cannot be reached stops the start.
  await ctx.queue?.start(app.log).catch(async (error: unknown) => {
    await app.close();
    await ctx.close();
    throw error;
  });
  const url = await app.listen({ port: config.port, host: config.host });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await app.close();
      await ctx.close();
    })();
    return closing;
  };
  return { app, ctx, url, close };
}

/**
 * On a database that never had an admin key, creates the first one and shows its secret this
 * once. Deleted keys count as had: deleting every admin key must not make the next start mint
 * a new one and print it to whoever reads the terminal or its log. Answers the warning to log
 * when no admin key is usable.
 */
async function bootstrapAdminKey(storage: Storage): Promise<string[]> {
  const { ever, active } = await countAdminKeys(storage.db);
  if (ever === 0) {
    const { secret } = await createAdminKey(storage.db, 'bootstrap', Date.now());
    process.stderr.write(
      `No admin key existed, so one was created. Store it now; it is not shown again:\n  ${secret}\n`,
    );
    return [];
  }
  if (active > 0) return [];
  return ['No active platform admin key is left; create one with `freddy-analytics keys create --admin --name NAME`'];
}

/** Runs until SIGTERM or SIGINT, then shuts down gracefully and exits 0. */
export async function serve(config: Readonly<Config>): Promise<void> {
  const starting = startServer(config);
  // Installed before the server listens: a signal that arrives right after "listening" must
  // still find its handler, not kill the process with the default action.
  const shutdown = (signal: string) => {
    starting
      .then(async (server) => {
        server.app.log.info({ signal }, 'shutting down');
        try {
          await server.close();
        } catch (error) {
          server.app.log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        }
        process.exit(0);
      })
      .catch(() => process.exit(1)); // the start failed; serve() reports why
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  const { url } = await starting;
  process.stderr.write(startupPointers(url));
}

/** Where a person who just started the server goes next, in a few lines on standard error. */
export function startupPointers(url: string): string {
  // Listening on every interface: the loopback address is the one to try from this machine.
  const base = url.replace('://0.0.0.0:', '://127.0.0.1:').replace('://[::]:', '://127.0.0.1:');
  return [
    `freddy-analytics is serving ${base}`,
    `  dashboard      ${base}/dashboard`,
    `  API reference  ${base}/docs (OpenAPI: ${base}/openapi.json)`,
    `  health         ${base}/healthz, readiness ${base}/readyz`,
    '',
  ].join('\n');
}
