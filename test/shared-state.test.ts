/**
 * State shared through Redis (REDIS_URL), with two contexts in this process standing for two
 * replicas over one database and the real Redis on 127.0.0.1:6379 (a key prefix of their own,
 * so that runs do not meet): together they allow the configured rate once, not twice; a key
 * changed through one (or by a command, which only announces) is refused by the other at once.
 * A Redis that cannot be reached leaves each replica to its own limit and its cache unused.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import type { RedisConfig } from '../src/config.ts';
import { type AppContext, createContext } from '../src/context.ts';
import { RateLimiter } from '../src/http/rate-limit.ts';
import { LEASE_MS, leaseSize, SharedRateLimiter } from '../src/http/shared-rate-limit.ts';
import { createApiKey, setApiKeyState } from '../src/modules/api-keys/api-keys.service.ts';
import { OPERATOR } from '../src/modules/auth/principal.ts';
import { createOrganization } from '../src/modules/orgs/orgs.service.ts';
import { openRedisState, type SharedState } from '../src/shared-state/redis-state.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { openStorage } from '../src/storage/storage.ts';
import { createTestDatabase, DIALECTS, TEST_CONFIG, type TestDatabase } from './harness.ts';

const LIMIT = 6;
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** A port nothing listens on: Redis down. */
const NO_REDIS_URL = 'redis://127.0.0.1:9';

interface Replica {
  ctx: AppContext;
  app: FastifyInstance;
  problems: string[];
}

async function replica(database: TestDatabase, redis: RedisConfig): Promise<Replica> {
  const storage = await openStorage(database.config);
  await migrateToLatest(storage);
  const problems: string[] = [];
  const ctx = createContext(
    storage,
    { ...TEST_CONFIG, rateLimitPerMinute: LIMIT, redis },
    { onProblem: (message) => problems.push(message) },
  );
  await ctx.start();
  return { ctx, app: await buildApp(ctx), problems };
}

async function closeAll(replicas: Replica[]): Promise<void> {
  for (const { app, ctx } of replicas) {
    await app.close();
    await ctx.close();
  }
}

for (const dialect of DIALECTS) {
  describe(`state shared through Redis [${dialect}]`, () => {
    let database: TestDatabase;
    let redis: RedisConfig;
    let a: Replica;
    let b: Replica;
    let orgId: string;

    before(async () => {
      database = await createTestDatabase(dialect);
      redis = { url: REDIS_URL, keyPrefix: `test-${randomBytes(6).toString('hex')}:` };
      a = await replica(database, redis);
      b = await replica(database, redis);
      orgId = (await createOrganization(a.ctx.storage.db, { name: 'Shared' }, Date.now())).id;
    });
    after(async () => {
      await closeAll([a, b]);
      await database.drop();
    });

    const newKey = async () =>
      createApiKey(a.ctx.storage.db, orgId, { name: 'k', scopes: ['read:usage', 'manage:keys'] }, Date.now(), OPERATOR);
    const summary = (on: Replica, secret: string) =>
      on.app.inject({ method: 'GET', url: `/v1/analytics/usage/summary/${orgId}`, headers: { 'x-api-key': secret } });

    it('allows the configured rate once across both replicas, with shared X-RateLimit headers', async () => {
      const { secret } = await newKey();
      const statuses: number[] = [];
      const remaining: string[] = [];
      for (let i = 0; i < LIMIT * 2; i++) {
        const response = await summary(i % 2 === 0 ? a : b, secret);
        statuses.push(response.statusCode);
        remaining.push(String(response.headers['x-ratelimit-remaining']));
      }
      assert.deepEqual(statuses, [...Array(LIMIT).fill(200), ...Array(LIMIT).fill(429)]);
      assert.deepEqual(remaining.slice(0, LIMIT), ['5', '4', '3', '2', '1', '0']);
      const limited = await summary(b, secret);
      assert.equal(limited.json().error.code, 'RATE_LIMIT_EXCEEDED');
      assert.ok(Number(limited.headers['retry-after']) >= 1);
      assert.deepEqual([...a.problems, ...b.problems], []);
      // At 6 a minute nothing is leased: every decision of a asked Redis (its 6 requests here, and
      // those of the tests before on this replica, if any, all asked too).
      const metrics = (await a.app.inject({ method: 'GET', url: '/metrics' })).body;
      const decided = (source: string) =>
        Number(new RegExp(`^freddy_rate_limit_tokens_total\\{source="${source}"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
      assert.ok(decided('redis') >= LIMIT, metrics);
      assert.equal(decided('lease'), 0);
      assert.equal(decided('local'), 0);
    });

    it('refuses on the other replica at once a key deactivated or deleted through one', async () => {
      const { apiKey, secret } = await newKey();
      const { secret: manager } = await newKey();
      assert.equal((await summary(b, secret)).statusCode, 200); // now cached on b
      const url = `/v1/organizations/${orgId}/api-keys/${apiKey.id}`;
      const off = await a.app.inject({ method: 'POST', url: `${url}/deactivate`, headers: { 'x-api-key': manager } });
      assert.equal(off.statusCode, 200);
      await refusedWithin(() => summary(b, secret), 'API_KEY_DEACTIVATED');
      const on = await b.app.inject({ method: 'POST', url: `${url}/activate`, headers: { 'x-api-key': manager } });
      assert.equal(on.statusCode, 200);
      assert.equal((await summary(a, secret)).statusCode, 200);
      const gone = await b.app.inject({ method: 'DELETE', url, headers: { 'x-api-key': manager } });
      assert.equal(gone.statusCode, 200);
      await refusedWithin(() => summary(a, secret), 'INVALID_API_KEY');
    });

    it('refuses at once a key changed by a command that only announces it', async () => {
      const { apiKey, secret } = await newKey();
      assert.equal((await summary(b, secret)).statusCode, 200);
      // What `freddy-analytics keys deactivate` does: a context that never subscribes.
      const command = createContext(await openStorage(database.config), { ...TEST_CONFIG, redis });
      try {
        await setApiKeyState(command, orgId, apiKey.id, 'deactivated', Date.now());
        await command.keyChanged(apiKey.id);
      } finally {
        await command.close();
      }
      await refusedWithin(() => summary(b, secret), 'API_KEY_DEACTIVATED');
    });

    it('without Redis reachable, limits per replica and reads every key from the database', async () => {
      const down = { url: NO_REDIS_URL, keyPrefix: redis.keyPrefix };
      const [c, d] = await Promise.all([replica(database, down), replica(database, down)]);
      try {
        assert.match(c.problems.join('\n'), /Redis is not reachable/);
        const { secret } = await newKey();
        const statuses: number[] = [];
        for (let i = 0; i < LIMIT * 2 + 2; i++) statuses.push((await summary(i % 2 === 0 ? c : d, secret)).statusCode);
        // Each replica holds the key to the rate on its own.
        assert.equal(statuses.filter((s) => s === 200).length, LIMIT * 2);
        assert.match(c.problems.join('\n'), /rate limit is kept per process/);
        // Changed in the database only, announced to nobody: still refused at once, as d's cache is off.
        const other = await newKey();
        assert.equal((await summary(d, other.secret)).statusCode, 200);
        await setApiKeyState(c.ctx, orgId, other.apiKey.id, 'deactivated', Date.now());
        assert.equal((await summary(d, other.secret)).json().error?.code, 'API_KEY_DEACTIVATED');
      } finally {
        await closeAll([c, d]);
      }
    });
  });
}

describe('tokens leased from the shared bucket', () => {
  // Leases of 10 tokens (leaseSize), granted out of the bucket's upper half only.
  const PER_MINUTE = 2_000;
  let state: SharedState;
  const problems: string[] = [];
  before(async () => {
    state = openRedisState({ url: REDIS_URL, keyPrefix: `test-${randomBytes(6).toString('hex')}:` }, (message) =>
      problems.push(message),
    );
    await state.start({ changed() {}, lost() {}, restored() {} });
  });
  after(async () => {
    await state.close();
    assert.deepEqual(problems, []);
  });
  const limiter = (clock: () => number = Date.now) =>
    new SharedRateLimiter(state, new RateLimiter(PER_MINUTE, clock), clock, (error) => problems.push(String(error)));
  /** The bucket's tokens after taking one more, and what it refilled since `since` at most. */
  const probe = async (key: string, since: number) => {
    const { tokens } = await state.takeTokens(key, PER_MINUTE, 1);
    return { tokens, refill: Math.ceil(((Date.now() - since) * PER_MINUTE) / 60_000) };
  };

  it('allows the rate once across two replicas, asking Redis once per lease in the upper half', async () => {
    assert.equal(leaseSize(PER_MINUTE), 10);
    const replicas = [limiter(), limiter()];
    const started = Date.now();
    let allowed = 0;
    let taken = 0;
    for (let refusedInARow = 0; refusedInARow < 20; taken++) {
      const decision = await replicas[taken % 2]!.take('alternating');
      allowed += decision.allowed ? 1 : 0;
      refusedInARow = decision.allowed ? 0 : refusedInARow + 1;
    }
    const refill = Math.ceil(((Date.now() - started) * PER_MINUTE) / 60_000);
    assert.ok(allowed >= PER_MINUTE && allowed <= PER_MINUTE + refill, `${allowed} allowed, ${refill} refilled`);
    // About 100 asks for the upper 1000 tokens, then one per token and per refusal.
    const asks = replicas.reduce((sum, replica) => sum + replica.sharedAsks, 0);
    assert.ok(asks < allowed * 0.6, `${asks} asks for ${allowed} allowed`);
    // Every decision either asked Redis or spent a leased token (what /metrics reports).
    assert.equal(asks + replicas.reduce((sum, replica) => sum + replica.leaseSpends, 0), taken);
  });

  it('gives back what a lease did not spend within LEASE_MS, and what it holds when closed', async () => {
    let now = Date.now();
    const since = now;
    const replica = limiter(() => now);
    assert.equal((await replica.take('returned')).allowed, true); // 10 taken, 9 leased
    now += LEASE_MS;
    assert.equal((await replica.take('returned')).allowed, true); // 9 back, 10 taken, 9 leased
    let { tokens, refill } = await probe('returned', since);
    const expected = PER_MINUTE - 10 + 9 - 10 - 1;
    assert.ok(tokens >= expected && tokens <= expected + refill, `${tokens} tokens, ${expected} expected`);
    await replica.close();
    ({ tokens, refill } = await probe('returned', since));
    assert.ok(tokens >= expected + 9 - 1 && tokens <= expected + 8 + refill, `${tokens} tokens after close`);
  });
});

/** Polls `request` until it answers 401 with `code`; fails if that takes a second or more. */
async function refusedWithin(
  request: () => Promise<{ statusCode: number; json(): { error?: { code?: string } } }>,
  code: string,
): Promise<void> {
  const start = Date.now();
  for (;;) {
    const response = await request();
    if (response.statusCode === 401 && response.json().error?.code === code) return;
    if (Date.now() - start >= 1_000) assert.fail(`still ${response.statusCode} after 1 s, expected 401 ${code}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
