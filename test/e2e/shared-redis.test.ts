/**
 * Three server processes on one PostgreSQL schema sharing the real Redis on 127.0.0.1:6379
 * (REDIS_URL, with a key prefix of this run's own): together they allow exactly the configured
 * rate, and a key revoked through one of them, or by the command line, is refused by the others
 * within a second (their caches would otherwise keep it for five).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../harness.ts';
import { runCli, type ServerProcess, startServerProcess } from '../process.ts';

const RATE = 30;
/** A rate at which replicas lease tokens (10 at a time; http/shared-rate-limit.ts). */
const LEASED_RATE = 2_000;
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('replicas sharing Redis', { skip: !DIALECTS.includes('postgres') && 'PostgreSQL not enabled' }, () => {
  let database: TestDatabase | undefined;
  const servers: ServerProcess[] = [];
  let env: Record<string, string> = {};
  let adminKey = '';
  let orgId = '';
  after(async () => {
    for (const server of servers) {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
      await server.exited;
    }
    await database?.drop();
  });

  const call = async (server: ServerProcess, method: string, url: string, key: string, body?: unknown) => {
    const response = await fetch(server.url + url, {
      method,
      headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const summary = (server: ServerProcess, key: string) =>
    call(server, 'GET', `/v1/analytics/usage/summary/${orgId}`, key);
  const newKey = async () => {
    const { status, body } = await call(servers[0]!, 'POST', `/v1/organizations/${orgId}/api-keys`, adminKey, {
      key_name: `k${randomBytes(3).toString('hex')}`,
    });
    assert.equal(status, 201);
    return { id: body.id as string, secret: body.key as string };
  };
  /** Milliseconds until every server answers 401 with `code` for `key`; fails at 1 s. */
  const refusedEverywhere = async (on: ServerProcess[], key: string, code: string, since: number) => {
    const pending = new Set(on);
    while (pending.size > 0) {
      for (const server of [...pending]) {
        const { status, body } = await summary(server, key);
        if (status === 401 && body.error?.code === code) pending.delete(server);
      }
      const elapsed = Date.now() - since;
      if (pending.size > 0 && elapsed >= 1_000)
        assert.fail(`${pending.size} replica(s) still accept the key after 1 s`);
      if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return Date.now() - since;
  };

  it('starts three replicas on one database and one Redis', async () => {
    database = await createTestDatabase('postgres');
    env = {
      ...database.env,
      REDIS_URL,
      REDIS_KEY_PREFIX: `e2e-${randomBytes(6).toString('hex')}:`,
      RATE_LIMIT_PER_MINUTE: String(RATE),
      DATABASE_POOL_SIZE: '3',
    };
    servers.push(await startServerProcess(env));
    adminKey = /\n\s+(fak_\S+)/.exec(servers[0]!.stderr.join(''))?.[1] ?? '';
    assert.ok(adminKey, 'no admin key printed');
    servers.push(...(await Promise.all([startServerProcess(env), startServerProcess(env)])));
    const org = await call(servers[0]!, 'POST', '/v1/organizations', adminKey, { name: 'Shared' });
    assert.equal(org.status, 201);
    orgId = org.body.id as string;
  });

  it(`allows exactly ${RATE} requests a minute for one key across the three`, async () => {
    const { secret } = await newKey();
    // Three times the rate at once, spread over the replicas: each alone would allow the rate.
    const answers = await Promise.all(
      Array.from({ length: RATE * 3 }, (_, i) => summary(servers[i % servers.length]!, secret)),
    );
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 200).length, RATE, JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 429).length, RATE * 2);
    const limited = answers.find((a) => a.status === 429)!;
    assert.equal(limited.body.error.code, 'RATE_LIMIT_EXCEEDED');
  });

  it('refuses on the other replicas within 1 s a key deactivated, or deleted, through one', async () => {
    const key = await newKey();
    for (const server of servers) assert.equal((await summary(server, key.secret)).status, 200); // cached everywhere
    const url = `/v1/organizations/${orgId}/api-keys/${key.id}`;
    let since = Date.now();
    assert.equal((await call(servers[0]!, 'POST', `${url}/deactivate`, adminKey)).status, 200);
    const deactivated = await refusedEverywhere(servers.slice(1), key.secret, 'API_KEY_DEACTIVATED', since);
    assert.equal((await call(servers[1]!, 'POST', `${url}/activate`, adminKey)).status, 200);
    for (const server of servers) assert.equal((await summary(server, key.secret)).status, 200);
    since = Date.now();
    assert.equal((await call(servers[2]!, 'DELETE', url, adminKey)).status, 200);
    const deleted = await refusedEverywhere(servers.slice(0, 2), key.secret, 'INVALID_API_KEY', since);
    assert.ok(deactivated < 1_000 && deleted < 1_000);
  });

  it('refuses within 1 s a platform admin key deleted through one replica', async () => {
    const created = await call(servers[0]!, 'POST', '/v1/admin-keys', adminKey, { key_name: 'second' });
    assert.equal(created.status, 201);
    const second = created.body.key as string;
    for (const server of servers) assert.equal((await summary(server, second)).status, 200);
    const since = Date.now();
    assert.equal((await call(servers[1]!, 'DELETE', `/v1/admin-keys/${created.body.id}`, adminKey)).status, 200);
    await refusedEverywhere([servers[0]!, servers[2]!], second, 'INVALID_API_KEY', since);
  });

  it('refuses within 1 s a key deactivated by the command line given REDIS_URL', async () => {
    const key = await newKey();
    for (const server of servers) assert.equal((await summary(server, key.secret)).status, 200);
    const result = await runCli(['keys', 'deactivate', key.id, '--org', orgId], env);
    assert.equal(result.code, 0, result.stderr);
    // The command's own start-up is not the replicas' delay: count from its exit.
    await refusedEverywhere(servers, key.secret, 'API_KEY_DEACTIVATED', Date.now());
  });

  it(`allows exactly ${LEASED_RATE} a minute across three more replicas that lease tokens`, async () => {
    // At this rate each replica leases tokens from the upper half of the bucket (leaseSize).
    const leasing = await Promise.all(
      Array.from({ length: 3 }, () => startServerProcess({ ...env, RATE_LIMIT_PER_MINUTE: String(LEASED_RATE) })),
    );
    servers.push(...leasing);
    const { secret } = await newKey();
    const started = Date.now();
    const statuses: number[] = [];
    // Three times the rate, spread over the replicas, 60 at a time.
    for (let sent = 0; sent < LEASED_RATE * 3; sent += 60) {
      const answers = await Promise.all(
        Array.from({ length: 60 }, (_, i) => summary(leasing[(sent + i) % leasing.length]!, secret)),
      );
      statuses.push(...answers.map((a) => a.status));
    }
    const refilled = Math.ceil(((Date.now() - started) * LEASED_RATE) / 60_000);
    const allowed = statuses.filter((s) => s === 200).length;
    assert.equal(allowed + statuses.filter((s) => s === 429).length, LEASED_RATE * 3);
    assert.ok(
      allowed >= LEASED_RATE && allowed <= LEASED_RATE + refilled,
      `${allowed} allowed; the bucket refilled ${refilled} meanwhile`,
    );
  });
});
