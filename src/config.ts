/**
 * Configuration, parsed once from the environment at start-up and frozen. Nothing else in
 * the program reads `process.env`. A wrong value stops the start with one clear line.
 */
import path from 'node:path';

export type DatabaseConfig =
  | { kind: 'sqlite'; path: string }
  | {
      kind: 'postgres';
      url: string;
      poolSize: number;
      /** Ingestion batches written at once by this process (see PostgresBatchWriter); default 2. */
      ingestConcurrency?: number;
      schema?: string;
      /**
       * 'transaction': DATABASE_URL points at a pooler in transaction mode (PgBouncer), which
       * keeps no session: nothing is set per connection, the pooler or the role sets the schema.
       */
      poolMode?: 'session' | 'transaction';
    };

/** Redis, shared by every replica (REDIS_URL): the rate limit's buckets and key changes. */
export interface RedisConfig {
  url: string;
  /** Prefix of every Redis key and channel, so that several deployments can share one Redis. */
  keyPrefix: string;
}

/** Ingestion from NATS JetStream (INGEST_NATS_URL); see modules/ingestion/queue.ts. */
export interface NatsIngestConfig {
  /** Servers, comma-separated: nats://host:port. */
  url: string;
  /** The stream of usage messages; dead letters go to `<stream>_DEAD`. */
  stream: string;
  /** Subjects: `<prefix>.usage.<organization_id>`, dead letters on `<prefix>.dead.<organization_id>`. */
  subjectPrefix: string;
}

export interface Config {
  port: number;
  host: string;
  database: DatabaseConfig;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /**
   * Milliseconds a request may take: to arrive, and for its database work (each statement, each
   * wait for a lock or a pooled connection). Work past it is rolled back and answered 503.
   */
  requestTimeoutMs: number;
  /** Seconds an unsettled budget reservation of `POST /v1/usage/authorize` holds its amount. */
  reservationTtlSeconds: number;
  /** Requests per minute one API key may make (per process); 0 turns the limit off. */
  rateLimitPerMinute: number;
  /** Milliseconds a client may take to send its request headers; a slower one is cut off. */
  headersTimeoutMs: number;
  /** Milliseconds an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** Analytics answers kept between commits (see storage/read-memo.ts); 0 turns reuse off. */
  readMemoEntries: number;
  /** Shared state between replicas; undefined (REDIS_URL unset) keeps it per process. */
  redis: RedisConfig | undefined;
  /** Months of raw events kept, the current one included; undefined keeps them all (modules/retention/). */
  rawEventsRetentionMonths?: number;
  /** Usage events pulled from NATS JetStream as well as posted; undefined when INGEST_NATS_URL is unset. */
  ingestNats?: NatsIngestConfig;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const DEFAULT_SQLITE_PATH = path.join('data', 'freddy-analytics.sqlite');
export const DEFAULT_READ_MEMO_ENTRIES = 10_000;
export const DEFAULT_INGEST_CONCURRENCY = 2;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Readonly<Config> {
  const config: Config = {
    port: integer(env, 'PORT', 8080, 0, 65_535),
    host: env.HOST?.trim() || '127.0.0.1',
    database: databaseConfig(env),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    bodyLimit: integer(env, 'BODY_LIMIT_BYTES', 1_048_576, 1_024, 64 * 1_048_576),
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
    reservationTtlSeconds: integer(env, 'RESERVATION_TTL_SECONDS', 300, 1, 86_400),
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 6_000, 0, 10_000_000),
    headersTimeoutMs: integer(env, 'HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
    keepAliveTimeoutMs: integer(env, 'KEEP_ALIVE_TIMEOUT_MS', 5_000, 100, 600_000),
    readMemoEntries: integer(env, 'READ_MEMO_ENTRIES', DEFAULT_READ_MEMO_ENTRIES, 0, 10_000_000),
    redis: redisConfig(env),
  };
  const retentionMonths = optionalInteger(env, 'RAW_EVENTS_RETENTION_MONTHS', 1, 1_200);
  if (retentionMonths !== undefined) config.rawEventsRetentionMonths = retentionMonths;
  const ingestNats = natsIngestConfig(env);
  if (ingestNats) config.ingestNats = ingestNats;
  return Object.freeze(config);
}

function databaseConfig(env: Env): DatabaseConfig {
  const url = env.DATABASE_URL?.trim();
  if (!url) return { kind: 'sqlite', path: DEFAULT_SQLITE_PATH };
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!file) throw new ConfigError('DATABASE_URL: sqlite: needs a file path, e.g. sqlite:./data/usage.sqlite');
    return { kind: 'sqlite', path: file };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const schema = env.DATABASE_SCHEMA?.trim();
    if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
      throw new ConfigError(`DATABASE_SCHEMA must be a lower-case SQL identifier (got "${schema}")`);
    }
    const poolMode = oneOf(env, 'DATABASE_POOL_MODE', ['session', 'transaction'] as const, 'session');
    return {
      kind: 'postgres',
      url,
      poolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 200),
      ingestConcurrency: integer(env, 'DATABASE_INGEST_CONCURRENCY', DEFAULT_INGEST_CONCURRENCY, 1, 200),
      ...(schema ? { schema } : {}),
      ...(poolMode === 'transaction' ? { poolMode } : {}),
    };
  }
  throw new ConfigError(
    `DATABASE_URL must start with postgres://, postgresql:// or sqlite: (got "${url.split(':')[0]}:…")`,
  );
}

function redisConfig(env: Env): RedisConfig | undefined {
  const url = env.REDIS_URL?.trim();
  if (!url) return undefined;
  if (!/^rediss?:\/\/[^/]/.test(url)) {
    throw new ConfigError(`REDIS_URL must start with redis:// or rediss:// (got "${url.split(':')[0]}:…")`);
  }
  const keyPrefix = env.REDIS_KEY_PREFIX?.trim() || 'freddy:';
  if (!/^[\w:.-]{1,64}$/.test(keyPrefix)) {
    throw new ConfigError(`REDIS_KEY_PREFIX must be 1 to 64 letters, digits or _ : . - (got "${keyPrefix}")`);
  }
  return { url, keyPrefix };
}

function natsIngestConfig(env: Env): NatsIngestConfig | undefined {
  const url = env.INGEST_NATS_URL?.trim();
  if (!url) return undefined;
  for (const server of url.split(',')) {
    if (!/^(nats|tls):\/\/[^\s/]+$/.test(server.trim())) {
      throw new ConfigError(
        `INGEST_NATS_URL must be nats://host:port, or several separated by commas (got "${server}")`,
      );
    }
  }
  const stream = env.INGEST_NATS_STREAM?.trim() || 'FREDDY_USAGE';
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(stream)) {
    throw new ConfigError(`INGEST_NATS_STREAM must be letters, digits, _ and - (got "${stream}")`);
  }
  const subjectPrefix = env.INGEST_NATS_SUBJECT_PREFIX?.trim() || 'freddy';
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(subjectPrefix)) {
    throw new ConfigError(
      `INGEST_NATS_SUBJECT_PREFIX must be subject tokens separated by dots, without wildcards (got "${subjectPrefix}")`,
    );
  }
  return { url, stream, subjectPrefix };
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

/** An integer setting whose absence means something of its own: undefined when unset. */
function optionalInteger(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : integer(env, name, min, min, max);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
  }
  return raw as T;
}
