/**
 * Redis going away while replicas run, and coming back: a redis-server of this test's own on a
 * free port, stopped and started again under two contexts (two replicas) over one database.
 * While it is down, requests are still answered, each replica limits a key on its own, and a
 * key changed in the database only is refused at once (the key cache is off). Once it is back,
 * the limit is shared again and a change announced through one replica reaches the other.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { type AppContext, createContext } from '../../src/context.ts';
import { SharedRateLimiter } from '../../src/http/shared-rate-limit.ts';
import { createApiKey, setApiKeyState } from '../../src/modules/api-keys/api-keys.service.ts';
import { hashSecret } from '../../src/modules/api-keys/secrets.ts';
import { OPERATOR } from '../../src/modules/auth/principal.ts';
import { createOrganization } from '../../src/modules/orgs/orgs.service.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { openStorage } from '../../src/storage/storage.ts';
import { createTestDatabase, DIALECTS, TEST_CONFIG, type TestDatabase } from '../harness.ts';

const LIMIT = 4;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** redis-server on `port`, nothing saved; resolves once it accepts connections. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start')), 10_000);
    child.stdout!.on('data', (chunk) => {
      if (/Ready to accept connections/.test(String(chunk))) {
        clearTimeout(timer);
        child.stdout!.resume();
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Requests a replica decided without Redis so far. */
function fallbacksOf(ctx: AppContext): number {
  assert.ok(ctx.rateLimiter instanceof SharedRateLimiter);
  return ctx.rateLimiter.fallbacks;
}

for (const dialect of DIALECTS) {
  describe(`replicas while Redis goes away and comes back [${dialect}]`, () => {
    let database: TestDatabase;
    let port: number;
    let redis: ChildProcess;
    const replicas: Array<{ ctx: AppContext; app: FastifyInstance; problems: string[] }> = [];
    let orgId: string;

    before(async () => {
      database = await createTestDatabase(dialect);
      port = await freePort();
      redis = await startRedis(port);
      for (let i = 0; i < 2; i++) {
        const storage = await openStorage(database.config);
        await migrateToLatest(storage);
        const problems: string[] = [];
        const ctx = createContext(
          storage,
          { ...TEST_CONFIG, rateLimitPerMinute: LIMIT, redis: { url: `redis://127.0.0.1:${port}`, keyPrefix: 'o:' } },
          { onProblem: (message) => problems.push(message) },
        );
        await ctx.start();
        replicas.push({ ctx, app: await buildApp(ctx), problems });
      }
      orgId = (await createOrganization(replicas[0]!.ctx.storage.db, { name: 'Outage' }, Date.now())).id;
    });
    after(async () => {
      for (const { app, ctx } of replicas) {
        await app.close();
        await ctx.close();
      }
      await stopRedis(redis);
      await database.drop();
    });

    const newKey = async () =>
      createApiKey(replicas[0]!.ctx.storage.db, orgId, { name: 'k', scopes: ['read:usage'] }, Date.now(), OPERATOR);
    const summary = (i: number, secret: string) =>
      replicas[i]!.app.inject({
        method: 'GET',
        url: `/v1/analytics/usage/summary/${orgId}`,
        headers: { 'x-api-key': secret },
      });
    const allowedOf = async (secret: string, requests: number) => {
      let allowed = 0;
      for (let i = 0; i < requests; i++) if ((await summary(i % 2, secret)).statusCode === 200) allowed++;
      return allowed;
    };

    it('shares the limit while Redis runs', async () => {
      assert.equal(await allowedOf((await newKey()).secret, LIMIT * 3), LIMIT);
    });

    it('keeps answering while Redis is down: a limit per replica, and no cached key', async () => {
      await stopRedis(redis);
      assert.equal(await allowedOf((await newKey()).secret, LIMIT * 3), LIMIT * 2);
      assert.ok(replicas.every((r) => r.problems.some((p) => /rate limit is kept per process/.test(p))));
      const other = await newKey();
      assert.equal((await summary(1, other.secret)).statusCode, 200);
      // Changed in the database only; nobody can announce it, and replica 1 does not trust its cache.
      await setApiKeyState(replicas[0]!.ctx, orgId, other.apiKey.id, 'deactivated', Date.now());
      assert.equal((await summary(1, other.secret)).json().error.code, 'API_KEY_DEACTIVATED');
    });

    it('shares the limit and hears key changes again once Redis is back', async () => {
      redis = await startRedis(port);
      const probe = await newKey();
      // Reconnection backs off by up to 1 s: wait until both replicas take tokens from Redis.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const before = replicas.map((r) => fallbacksOf(r.ctx));
        await summary(0, probe.secret);
        await summary(1, probe.secret);
        const after = replicas.map((r) => fallbacksOf(r.ctx));
        if (after.every((n, i) => n === before[i])) break;
        assert.ok(Date.now() < deadline, 'the replicas did not use Redis again within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(await allowedOf((await newKey()).secret, LIMIT * 3), LIMIT);
      const { apiKey, secret } = await newKey();
      // Cached on replica 1 once its subscription is back and its cache trusted again.
      const cached = () => replicas[1]!.ctx.principals.get(hashSecret(secret), Date.now()) !== undefined;
      while (!cached()) {
        assert.equal((await summary(1, secret)).statusCode, 200);
        assert.ok(Date.now() < deadline, 'replica 1 did not trust its key cache again within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await setApiKeyState(replicas[0]!.ctx, orgId, apiKey.id, 'deactivated', Date.now());
      await replicas[0]!.ctx.keyChanged(apiKey.id);
      const since = Date.now();
      for (;;) {
        const response = await summary(1, secret);
        if (response.statusCode === 401) break;
        assert.ok(Date.now() - since < 1_000, 'replica 1 still accepts the key after 1 s');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    });
  });
}
