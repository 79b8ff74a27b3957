/** What every CLI command needs: the configured, migrated database, closed afterwards. */
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { AppError } from '../errors.ts';
import { openStorage, type Storage } from '../storage/database.ts';
import { databaseUnavailable } from '../storage/dialect.ts';
import { migrateToLatest } from '../storage/migrate.ts';

export async function withStorage<T>(work: (storage: Storage, config: Readonly<Config>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const storage = openStorage(config.database);
  try {
    await migrateToLatest(storage.db, storage.dialect);
    return await work(storage, config);
  } finally {
    await storage.close();
  }
}

/** Prints one JSON object (`--json`) or readable lines. */
export function output(json: boolean, value: Record<string, unknown>, lines: string[]): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${lines.join('\n')}\n`);
}

/** Turns a thrown error into one line on stderr and a non-zero exit. */
export function fail(error: unknown): never {
  const unavailable = error instanceof AppError ? undefined : databaseUnavailable(error);
  const message =
    error instanceof AppError
      ? `${error.code}: ${error.systemMessage ?? error.message}`
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
