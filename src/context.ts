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
import { KnownOrganizations } from './modules/orgs/known-organizations.ts';
import { RawEventRetention } from './modules/retention/retention.service.ts';
import { ReadMemo } from './storage/read-memo.ts';
import { openStorage, type Storage } from './storage/storage.ts';

/** What the app reads of the configuration; tests give the parts they care about. */
export type AppConfig = Pick<Config, 'bodyLimit' | 'requestTimeoutMs' | 'logLevel' | 'reservationTtlSeconds'> &
  Partial<
    Pick<
      Config,
      'rateLimitPerMinute' | 'headersTimeoutMs' | 'keepAliveTimeoutMs' | 'readMemoEntries' | 'rawEventsRetentionMonths'
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
  readonly rateLimiter: RateLimiter | undefined;
  /** Raw event retention and the horizon before which events are refused (modules/retention/). */
  readonly retention: RawEventRetention;
  /** Closes what the context holds: the storage last. */
  close(): Promise<void>;
}

export interface ContextOptions {
  clock?: () => number;
}

/** The context around a storage that is already open (tests, and openContext). */
export function createContext(storage: Storage, config: Readonly<AppConfig>, options: ContextOptions = {}): AppContext {
  const clock = options.clock ?? Date.now;
  const perMinute = config.rateLimitPerMinute ?? 0;
  const retention = new RawEventRetention(storage, config.rawEventsRetentionMonths, clock);
  return {
    config,
    storage,
    reads: new ReadMemo(() => storage.changeMarker(), config.readMemoEntries ?? DEFAULT_READ_MEMO_ENTRIES),
    clock,
    principals: new PrincipalCache(),
    lastUsed: lastUsedRecorder(),
    keys: new KeyLifetimes(storage.db),
    organizations: new KnownOrganizations(storage.db),
    rateLimiter: perMinute > 0 ? new RateLimiter(perMinute, clock) : undefined,
    retention,
    close: async () => {
      await retention.stop();
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
