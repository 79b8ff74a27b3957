/**
 * What replicas share through Redis when REDIS_URL is set: each API key's rate-limit bucket,
 * and the news that a key changed, so that every replica forgets its cached principal at once.
 *
 * Two connections: one for commands, one subscribed to the key-change channel (a subscribed
 * connection can do nothing else). Redis is never waited for: commands fail at once while the
 * connection is down (no offline queue) or after COMMAND_TIMEOUT_MS, and the callers fall back
 * to what one process knows (see http/shared-rate-limit.ts and modules/auth/principal-cache.ts).
 */
import type { RedisClientType } from '@redis/client';
import type { RedisConfig } from '../config.ts';

/** A Redis that takes longer than this is treated as down for the request at hand. */
export const COMMAND_TIMEOUT_MS = 250;
/** How long a start, or a CLI command's announcement, waits for Redis to connect. */
const CONNECT_WAIT_MS = 2_000;
/** Reconnection attempts back off up to this many ms. */
const MAX_RECONNECT_DELAY_MS = 1_000;

/**
 * A token bucket per key, as in http/rate-limit.ts, in one atomic script: every replica takes
 * from the same tokens. Time is Redis's own, so that replicas with clocks apart agree. The
 * bucket expires once it would have refilled anyway.
 *
 * ARGV[2] is how many tokens the caller would like (a lease: http/shared-rate-limit.ts). It gets
 * one whenever the bucket holds one, and the others only out of the bucket's upper half, so
 * that near the limit every request is decided here, one token at a time. A negative ARGV[2]
 * gives that many unused tokens back. Answers the tokens granted and the tokens left (a decimal
 * string: Lua numbers would be truncated to integers).
 */
const TAKE_TOKENS = `
local per_minute = tonumber(ARGV[1])
local want = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = per_minute
  at = now
end
tokens = math.min(per_minute, tokens + math.max(0, now - at) * per_minute / 60000)
local granted = 0
if want < 0 then
  tokens = math.min(per_minute, tokens - want)
elseif tokens >= 1 then
  granted = 1
  local extra = math.min(want - 1, math.floor(tokens - 1 - per_minute / 2))
  if extra > 0 then
    granted = granted + extra
  end
  tokens = tokens - granted
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 61000)
return {granted, tostring(tokens)}
`;

/** How the subscription to key changes stands; a replica that may have missed one must not trust its cache. */
export interface KeyChangeListener {
  changed(keyId: string): void;
  /** The subscription is down: changes may be missed from now on. */
  lost(): void;
  /** The subscription is back (or up for the first time): changes are heard again. */
  restored(): void;
}

export interface SharedState {
  /**
   * Takes a token from the key's shared bucket, and up to `want` in all while the bucket is more
   * than half full (`want` < 0: gives that many back); throws when Redis does not answer in time.
   */
  takeTokens(bucket: string, perMinute: number, want: number): Promise<{ granted: number; tokens: number }>;
  /** Tells every replica (this one included) that the key changed. Never throws. */
  announceKeyChange(keyId: string): Promise<void>;
  /** Connects and subscribes; resolves once subscribed, or once the first attempt failed (it keeps trying). */
  start(listener: KeyChangeListener): Promise<void>;
  close(): Promise<void>;
}

type ProblemReport = (message: string, error: unknown) => void;

/**
 * The shared state over Redis. The client library loads when the state is first used (the
 * process's start): a process without REDIS_URL never loads it.
 */
export function openRedisState(config: RedisConfig, onProblem: ProblemReport): SharedState {
  let state: Promise<SharedState> | undefined;
  const loaded = () =>
    (state ??= import('@redis/client').then(({ createClient }) => redisState(createClient, config, onProblem)));
  return {
    takeTokens: async (bucket, perMinute, want) => (await loaded()).takeTokens(bucket, perMinute, want),
    announceKeyChange: async (keyId) => (await loaded()).announceKeyChange(keyId),
    start: async (listener) => (await loaded()).start(listener),
    close: async () => {
      if (state) await (await state).close();
    },
  };
}

function redisState(
  createClient: typeof import('@redis/client').createClient,
  config: RedisConfig,
  onProblem: ProblemReport,
): SharedState {
  const options = {
    url: config.url,
    disableOfflineQueue: true,
    commandOptions: { timeout: COMMAND_TIMEOUT_MS },
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS),
    },
  };
  const commands: RedisClientType = createClient(options);
  const subscriber: RedisClientType = createClient({ ...options, pingInterval: 1_000 });
  const channel = `${config.keyPrefix}key-changes`;
  const bucketPrefix = `${config.keyPrefix}rate:`;
  let scriptSha: string | undefined;
  let connecting: Promise<unknown> | undefined;
  // A CLI command only announces: its command connection opens on first use.
  const commandsReady = () => {
    connecting ??= commands.connect();
    return connecting;
  };
  let subscribed = false;
  // Each connection reports a failure once until it is ready again, not on every retry.
  const quiet = new Set<RedisClientType>();
  const reportOnce = (client: RedisClientType, what: string) => (error: unknown) => {
    if (quiet.has(client)) return;
    quiet.add(client);
    onProblem(`Redis ${what} connection failed; retrying`, error);
  };
  commands.on('error', reportOnce(commands, 'command'));
  subscriber.on('error', reportOnce(subscriber, 'subscription'));
  commands.on('ready', () => quiet.delete(commands));

  // The client's own command timeout is an AbortSignal.timeout per command, which cannot be
  // cleared and fires 250 ms later for every command: on the path of every request, a timer of
  // our own, cleared on the answer, costs less.
  const takeOnce = (sha: string, key: string, perMinute: number, want: number): Promise<unknown> => {
    const reply = commands.sendCommand(['EVALSHA', sha, '1', key, String(perMinute), String(want)], {
      timeout: undefined,
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${COMMAND_TIMEOUT_MS} ms`)), COMMAND_TIMEOUT_MS);
    });
    // An answer (or failure) after the timeout is dropped.
    reply.catch(() => {});
    return Promise.race([reply, late]).finally(() => clearTimeout(timer));
  };
  const evaluate = async (key: string, perMinute: number, want: number): Promise<unknown> => {
    if (scriptSha) {
      try {
        return await takeOnce(scriptSha, key, perMinute, want);
      } catch (error) {
        if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      }
    }
    scriptSha = String(await commands.sendCommand(['SCRIPT', 'LOAD', TAKE_TOKENS]));
    return takeOnce(scriptSha, key, perMinute, want);
  };

  return {
    async takeTokens(bucket, perMinute, want) {
      const [granted, tokens] = (await evaluate(bucketPrefix + bucket, perMinute, want)) as [number, string];
      return { granted, tokens: Number(tokens) };
    },
    async announceKeyChange(keyId) {
      try {
        if (!(await within(CONNECT_WAIT_MS, commandsReady()))) throw new Error('no connection');
        await commands.publish(channel, keyId);
      } catch (error) {
        onProblem(`could not announce the change of key ${keyId} to other replicas`, error);
      }
    },
    async start(listener) {
      // Until the subscription is up, changes made elsewhere cannot be heard.
      listener.lost();
      subscriber.on('ready', () => {
        quiet.delete(subscriber);
        if (subscribed) listener.restored();
      });
      for (const event of ['end', 'reconnecting', 'error'] as const) {
        subscriber.on(event, () => listener.lost());
      }
      // The clients keep trying to connect for as long as it takes; the start waits a moment only.
      commandsReady().catch(() => {});
      const subscribing = subscriber
        .connect()
        .then(() => subscriber.subscribe(channel, (keyId) => listener.changed(keyId)))
        .then(() => {
          subscribed = true;
          listener.restored();
          return true;
        });
      subscribing.catch((error: unknown) => onProblem('could not subscribe to key changes', error));
      const up = await within(CONNECT_WAIT_MS, subscribing);
      if (!up)
        onProblem(
          'Redis is not reachable yet; until it is, limits and caches are per process',
          new Error(`no connection within ${CONNECT_WAIT_MS} ms`),
        );
    },
    async close() {
      for (const client of [subscriber, commands]) {
        // A client still trying to connect is stopped; a connected one finishes what it sent.
        if (client.isReady) await client.close().catch(() => client.destroy());
        else if (client.isOpen) client.destroy();
      }
    },
  };
}

/** Whether `promise` settles well within `ms`; it is not waited for past that. */
async function within(ms: number, promise: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), late]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
