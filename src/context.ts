/**
 * The context of a process: everything it keeps while it runs (the storage, the read memo, the
 * caches of keys and organizations, the rate limit's buckets), created in one place when the
 * server or a CLI command starts, handed down explicitly to routes and services, and closed in
 * one place. No module keeps state of its own.
 */
import { type Config, DEFAULT_READ_MEMO_ENTRIES } from './config.ts';
import { RateLimiter } from './http/rate-limit.ts';
import { KeyLifetimes } from './modules/api-keys/key-lifetimes.ts';
import { type LastUsedRecorder, lastUsedRecorder } from './modules/auth/last-used.ts';
import { PrincipalCache } from './modules/auth/principal-cache.ts';
import { QueueIngestion } from './modules/ingestion/queue.ts';
import { KnownOrganizations } from './modules/orgs/known-organizations.ts';
import { ReadMemo } from './storage/read-memo.ts';
import { openStorage, type Storage } from './storage/storage.ts';

/** What the app reads of the configuration; tests give the parts they care about. */
export type AppConfig = Pick<Config, 'bodyLimit' | 'requestTimeoutMs' | 'logLevel' | 'reservationTtlSeconds'> &
  Partial<
    Pick<Config, 'rateLimitPerMinute' | 'headersTimeoutMs' | 'keepAliveTimeoutMs' | 'readMemoEntries' | 'ingestNats'>
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
  readonly rateLimiter: RateLimiter | undefined;
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
}

/** The context around a storage that is already open (tests, and openContext). */
export function createContext(storage: Storage, config: Readonly<AppConfig>, options: ContextOptions = {}): AppContext {
  const clock = options.clock ?? Date.now;
  const perMinute = config.rateLimitPerMinute ?? 0;
  const keys = new KeyLifetimes(storage.db);
  const organizations = new KnownOrganizations(storage.db);
  const queue = config.ingestNats ? new QueueIngestion({ storage, keys, organizations }, config.ingestNats) : undefined;
  return {
    config,
    storage,
    reads: new ReadMemo(() => storage.changeMarker(), config.readMemoEntries ?? DEFAULT_READ_MEMO_ENTRIES),
    clock,
    principals: new PrincipalCache(),
    lastUsed: lastUsedRecorder(),
    keys,
    organizations,
    rateLimiter: perMinute > 0 ? new RateLimiter(perMinute, clock) : undefined,
    queue,
    close: async () => {
      await queue?.stop();
      await storage.close();
    },
  };
}

/**
 * Opens the configured storage and the context around it. The server bounds each request's
 * database work by REQUEST_TIMEOUT_MS; a CLI command (`bounded: false`) runs unbounded.
 */
export function openContext(
  config: Readonly<AppConfig & Pick<Config, 'database'>>,
  options: ContextOptions & { bounded?: boolean } = {},
): AppContext {
  const storage = openStorage(config.database, options.bounded === false ? {} : { timeoutMs: config.requestTimeoutMs });
  return createContext(storage, config, options);
}
