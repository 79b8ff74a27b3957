/** What every CLI command needs: the context of the configured, migrated database, closed afterwards. */
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { type AppContext, openContext } from '../context.ts';
import { AppError } from '../errors.ts';
import { ERROR_INFO } from '../http/error-envelope.ts';
import { databaseUnavailable } from '../storage/failures.ts';
import { migrateToLatest } from '../storage/migrate.ts';

/** Runs `work` in a context of its own, unbounded (a command is not a request), closed afterwards. */
export async function withContext<T>(work: (ctx: AppContext, config: Readonly<Config>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const ctx = await openContext(config, { bounded: false });
  try {
    await migrateToLatest(ctx.storage);
    return await work(ctx, config);
  } finally {
    await ctx.close();
  }
}

/**
 * After a command changed a key: the running servers forget it at once when they share Redis
 * with this command (REDIS_URL), else within their cache's few seconds.
 */
export function announced<K extends { id: string }>(ctx: Pick<AppContext, 'keyChanged'>): (key: K) => Promise<K> {
  return async (key) => {
    await ctx.keyChanged(key.id);
    return key;
  };
}

/** Prints one JSON object (`--json`) or readable lines. */
export function output(json: boolean, value: Record<string, unknown>, lines: string[]): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${lines.join('\n')}\n`);
}

/** What went wrong and why, in one line: the code, the reason, and what the error names. */
export function describeAppError(error: AppError): string {
  const reason = error.systemMessage ?? (error.message || ERROR_INFO[error.code].message);
  const named = Object.entries(error.details ?? {})
    .filter(([, value]) => typeof value === 'string' || typeof value === 'number')
    .map(([field, value]) => `${field} ${value}`);
  return `${error.code}: ${reason}${named.length > 0 ? ` (${named.join(', ')})` : ''}`;
}

/** Turns a thrown error into one line on stderr and a non-zero exit. */
export function fail(error: unknown): never {
  const unavailable = error instanceof AppError ? undefined : databaseUnavailable(error);
  const message =
    error instanceof AppError
      ? describeAppError(error)
      : unavailable
        ? // The driver's own words too: they say who ended the connection.
          `${unavailable.systemMessage} (${(error as Error).message})`
        : error instanceof ConfigError
          ? `Invalid configuration: ${error.message}`
          : error instanceof Error
            ? error.message
            : String(error);
  process.stderr.write(`freddy-analytics: ${message}\n`);
  process.exit(1);
}
