/**
 * The service behind PgBouncer in transaction pooling mode (DATABASE_POOL_MODE=transaction):
 * Debian's pgbouncer, started here with a configuration of its own, in front of the test
 * PostgreSQL. The suite's ingestion and budget-check files run through it (their databases
 * reached through the pooler, see test/pgbouncer.ts), then a server process ingests and checks
 * budgets through it. Without the setting the pooler refuses the connection's start-up
 * parameters, and with a role that does not set the schema the start stops with the reason.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fromRoot } from '../../src/project-root.ts';
import { DIALECTS, POSTGRES_URL } from '../harness.ts';
import { PGBOUNCER, type PgBouncer, pooledTestDatabase, startPgBouncer } from '../pgbouncer.ts';
import { type ServerProcess, startServerProcess } from '../process.ts';

const SUITE_FILES = ['ingestion.test.js', 'authorize.test.js'];

describe('behind PgBouncer in transaction mode', {
  skip:
    (!DIALECTS.includes('postgres') && 'PostgreSQL not enabled') ||
    (!fs.existsSync(PGBOUNCER) && `${PGBOUNCER} is not installed`),
}, () => {
  let bouncer: PgBouncer;
  const dropLater: Array<() => Promise<void>> = [];
  const servers: ServerProcess[] = [];
  before(async () => {
    bouncer = await startPgBouncer(POSTGRES_URL);
  });
  after(async () => {
    for (const server of servers) {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
      await server.exited;
    }
    for (const drop of dropLater) await drop();
    await bouncer?.stop();
  });

  const database = async () => {
    const name = `t_pgb_${Math.random().toString(16).slice(2, 10)}`;
    const db = await pooledTestDatabase(name, POSTGRES_URL, bouncer.url);
    dropLater.push(db.drop);
    return db;
  };

  it(`passes the suite's ingestion and budget-check files through the pooler (${SUITE_FILES.join(', ')})`, async () => {
    const files = SUITE_FILES.map((file) => fromRoot('dist', 'test', file));
    // A runner of its own: one that inherits NODE_TEST_CONTEXT reports to this one and runs nothing.
    const { NODE_TEST_CONTEXT: _inherited, ...env } = process.env;
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=dot', ...files], {
      env: { ...env, FREDDY_TEST_DIALECTS: 'postgres', TEST_PGBOUNCER_URL: bouncer.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => {
      output += String(chunk);
    });
    child.stderr!.on('data', (chunk) => {
      output += String(chunk);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, output.slice(-4000));
    // Their databases were reached through the pooler, as roles of their own.
    const roles = [...bouncer.users()].filter((user) => /^t_[0-9a-f]{12}$/.test(user));
    assert.ok(roles.length >= SUITE_FILES.length, `roles through the pooler: ${roles.join(', ')}\n${output}`);
  });

  it('ingests and checks budgets through the pooler in a server process', async () => {
    const db = await database();
    const server = await startServerProcess({ ...db.env, RATE_LIMIT_PER_MINUTE: '0' });
    servers.push(server);
    const adminKey = /\n\s+(fak_\S+)/.exec(server.stderr.join(''))?.[1];
    assert.ok(adminKey, server.stderr.join(''));
    const call = async (method: string, url: string, body?: unknown) => {
      const response = await fetch(server.url + url, {
        method,
        headers: { 'x-api-key': adminKey, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };
    const org = await call('POST', '/v1/organizations', { name: 'Pooled' });
    assert.equal(org.status, 201);
    const orgId = org.body.id as string;
    assert.equal((await call('PUT', `/v1/analytics/usage/limits/${orgId}`, { monthly_api_limit: '1.00' })).status, 200);
    const now = new Date().toISOString();
    const events = Array.from({ length: 200 }, (_, i) => ({
      id: `evt_pgb_${i}`,
      organization_id: orgId,
      model: 'gpt-4o',
      timestamp: now,
      neurons: 10,
      synapses: 5,
      cost: '0.001',
    }));
    const ingested = await call('POST', '/v1/usage/events', { events });
    assert.equal(ingested.status, 200, JSON.stringify(ingested.body));
    // Concurrent budget checks, each a transaction with row locks, on pooled server connections.
    const checks = await Promise.all(
      Array.from({ length: 20 }, () =>
        call('POST', '/v1/usage/authorize', { organization_id: orgId, estimated_cost: '0.01' }),
      ),
    );
    for (const check of checks) assert.equal(check.status, 200, JSON.stringify(check.body));
    // 0.2 spent, 20 × 0.01 reserved of 1.00: every check was allowed, the reservations add up.
    assert.ok(checks.every((c) => c.body.allowed === true));
    const summary = await call('GET', `/v1/analytics/usage/summary/${orgId}`);
    assert.equal(summary.status, 200);
    assert.equal(summary.body.totalRequests, 200);
    const again = await call('GET', `/v1/analytics/usage/summary/${orgId}`);
    assert.deepEqual(again.body, summary.body);
  });

  it('is refused by the pooler without DATABASE_POOL_MODE=transaction', async () => {
    const db = await database();
    const { DATABASE_POOL_MODE: _mode, ...session } = db.env;
    await assert.rejects(startServerProcess(session), /unsupported startup parameter/);
  });

  it('stops at start when the role does not set the schema it is told to use', async () => {
    const db = await database();
    await assert.rejects(
      startServerProcess({ ...db.env, DATABASE_SCHEMA: `${db.env.DATABASE_SCHEMA}_other` }),
      /DATABASE_SCHEMA is t_pgb_\w+_other, but connections through the pooler use t_pgb_\w+: with DATABASE_POOL_MODE=transaction, set search_path/,
    );
  });
});
