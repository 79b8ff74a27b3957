/**
 * The context of a process: everything it keeps while it runs (the storage, the read memo, the
 * caches of keys and organizations, the rate limit's buckets, the Redis connections that replicas
 * share them through when REDIS_URL is set), created in one place when the
 * server or a CLI command starts, handed down explicitly to routes and services, and closed in
 * one place. No module keeps state of its own.
 */
import { type Config, DEFAULT_READ_MEMO_ENTRIES } from './config.ts';
import { type RateLimit, RateLimiter } from './http/rate-limit.ts';
import { SharedRateLimiter } from './http/shared-rate-limit.ts';
import { KeyLifetimes } from './modules/api-keys/key-lifetimes.ts';
import { type LastUsedRecorder, lastUsedRecorder } from './modules/auth/last-used.ts';
import { PrincipalCache } from './modules/auth/principal-cache.ts';
import { QueueIngestion } from './modules/ingestion/queue.ts';
import { KnownOrganizations } from './modules/orgs/known-organizations.ts';
import { RawEventRetention } from './modules/retention/retention.service.ts';
import { openRedisState, type SharedState } from './shared-state/redis-state.ts';
import { ReadMemo } from './storage/read-memo.ts';
import { openStorage, type Storage } from './storage/storage.ts';

/** What the app reads of the configuration; tests give the parts they care about. */
export type AppConfig = Pick<Config, 'bodyLimit' | 'requestTimeoutMs' | 'logLevel' | 'reservationTtlSeconds'> &
  Partial<
    Pick<
      Config,
      | 'rateLimitPerMinute'
      | 'headersTimeoutMs'
      | 'keepAliveTimeoutMs'
      | 'readMemoEntries'
      | 'redis'
      | 'rawEventsRetentionMonths'
      | 'ingestNats'
    >
  >;

export interface AppContext {
  readonly config: Readonly<AppConfig>;
  readonly storage: Storage;
  /** Rollup reads reused until anything is committed (storage/read-memo.ts). */
  readonly reads: ReadMemo;
  /** Current time in epoch milliseconds; tests may pin it. */
  readonly clock: () => number;
  /** Recently authenticated keys (modules/auth/principal-cache.ts). */
  readonly principals: PrincipalCache;
  /** When keys were last used, written at most once a minute per key. */
  readonly lastUsed: LastUsedRecorder;
  /** When the API keys that events name existed (modules/api-keys/key-lifetimes.ts). */
  readonly keys: KeyLifetimes;
  /** The organizations seen, with their creation times. */
  readonly organizations: KnownOrganizations;
  /** Requests per minute and key; undefined when the limit is off. */
  readonly rateLimiter: RateLimit | undefined;
  /** What replicas share through Redis; undefined without REDIS_URL. */
  readonly shared: SharedState | undefined;
  /**
   * Says that a key (API or admin key) changed: its cached principal is forgotten here, and,
   * with Redis, on every replica. Call after the change is committed.
   */
  keyChanged(keyId: string): Promise<void>;
  /** Connects to what is shared (Redis), when configured; resolves at once otherwise. */
  start(): Promise<void>;
  /** Raw event retention and the horizon before which events are refused (modules/retention/). */
  readonly retention: RawEventRetention;
  /**
   * Ingestion from NATS JetStream when INGEST_NATS_URL is set (modules/ingestion/queue.ts):
   * started by the process once the storage is, stopped by close() before the storage.
   */
  readonly queue: QueueIngestion | undefined;
  /** Closes what the context holds: the queue first, the storage last. */
  close(): Promise<void>;
}

export interface ContextOptions {
  clock?: () => number;
  /** Where a problem with shared state (Redis) is told; standard error by default. */
  onProblem?: (message: string, error: unknown) => void;
}

function problemToStderr(message: string, error: unknown): void {
  process.stderr.write(`freddy-analytics: ${message} (${error instanceof Error ? error.message : String(error)})\n`);
}

/** The context around a storage that is already open (tests, and openContext). */
export function createContext(storage: Storage, config: Readonly<AppConfig>, options: ContextOptions = {}): AppContext {
  const clock = options.clock ?? Date.now;
  const perMinute = config.rateLimitPerMinute ?? 0;
  const onProblem = options.onProblem ?? problemToStderr;
  const shared = config.redis ? openRedisState(config.redis, onProblem) : undefined;
  const principals = new PrincipalCache();
  const local = perMinute > 0 ? new RateLimiter(perMinute, clock) : undefined;
  const retention = new RawEventRetention(storage, config.rawEventsRetentionMonths, clock);
  const keys = new KeyLifetimes(storage.db);
  const organizations = new KnownOrganizations(storage.db);
  const queue = config.ingestNats
    ? new QueueIngestion({ storage, keys, organizations, retention }, config.ingestNats)
    : undefined;
  const sharedLimiter =
    local && shared
      ? new SharedRateLimiter(shared, local, clock, (error) =>
          onProblem('Redis did not answer; the rate limit is kept per process until it does', error),
        )
      : undefined;
  return {
    config,
    storage,
    reads: new ReadMemo(() => storage.changeMarker(), config.readMemoEntries ?? DEFAULT_READ_MEMO_ENTRIES),
    clock,
    principals,
    lastUsed: lastUsedRecorder(),
    keys,
    organizations,
    rateLimiter: sharedLimiter ?? local,
    shared,
    retention,
    queue,
    keyChanged: async (keyId) => {
      principals.forgetKey(keyId);
      await shared?.announceKeyChange(keyId);
    },
    start: async () => {
      await shared?.start({
        changed: (keyId) => principals.forgetKey(keyId),
        lost: () => principals.distrust(),
        restored: () => principals.trust(),
      });
    },
    close: async () => {
      await queue?.stop();
      await retention.stop();
      // Unspent leased tokens go back to the bucket the other replicas share.
      await sharedLimiter?.close();
      await shared?.close();
      await storage.close();
    },
  };
}

/**
 * Opens the configured storage and the context around it. The server bounds each request's
 * database work by REQUEST_TIMEOUT_MS; a CLI command (`bounded: false`) runs unbounded.
 */
export async function openContext(
  config: Readonly<AppConfig & Pick<Config, 'database'>>,
  options: ContextOptions & { bounded?: boolean } = {},
): Promise<AppContext> {
  const storage = await openStorage(
    config.database,
    options.bounded === false ? {} : { timeoutMs: config.requestTimeoutMs },
  );
  return createContext(storage, config, options);
}
