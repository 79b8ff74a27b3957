/**
 * Resource limits, on a running server of each engine: a request that takes longer than
 * REQUEST_TIMEOUT_MS gets 503, an idle keep-alive connection is closed after
 * KEEP_ALIVE_TIMEOUT_MS, a body over BODY_LIMIT_BYTES gets 413, PostgreSQL never has more
 * than DATABASE_POOL_SIZE connections of the server under load, and clients that send their
 * headers a byte at a time are cut off after HEADERS_TIMEOUT_MS (not before) while others are
 * served. Every bound is configurable, with a clear error for a wrong value.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import type { DatabaseConfig } from '../../src/config.ts';
import { loadConfig } from '../../src/config.ts';
import { createAdminKey } from '../../src/modules/admin-keys/admin-keys.service.ts';
import { createOrganization } from '../../src/modules/orgs/orgs.service.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import type { EngineName } from '../../src/storage/storage.ts';
import { openStorage, type Storage } from '../../src/storage/storage.ts';
import { appOver, assertEnvelope, createTestDatabase, DIALECTS, POSTGRES_URL, type TestDatabase } from '../harness.ts';

const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 1_500;
const KEEP_ALIVE_TIMEOUT_MS = 500;
const BODY_LIMIT_BYTES = 4_096;
const POOL_SIZE = 3;
const SLOW_CLIENTS = 50;
/** Node closes an idle keep-alive socket up to a second after keepAliveTimeout, and checks headers every second. */
const NODE_SLACK_MS = 1_000;
/** Room for a busy shared machine. */
const BUSY_MS = 2_000;

/** Opens a connection and sends a request's headers one byte every `everyMs`; resolves when the server closes it. */
function slowClient(port: number, everyMs: number): Promise<{ closedAfterMs: number; answer: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    const text = `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ${'a'.repeat(10_000)}\r\n\r\n`;
    let sent = 0;
    let answer = '';
    const timer = setInterval(() => {
      if (!socket.destroyed && sent < text.length) socket.write(text[sent++]!);
    }, everyMs);
    socket.on('data', (chunk) => {
      answer += String(chunk);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ closedAfterMs: Date.now() - started, answer });
    });
  });
}

/** One request on a fresh connection, kept open; resolves when the server closes it. */
function idleAfterAnswer(port: number): Promise<{ answeredAfterMs: number; closedAfterMs: number; answer: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    let answeredAt = 0;
    socket.on('connect', () => socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n'));
    socket.on('data', (chunk) => {
      answer += String(chunk);
      answeredAt ||= Date.now();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      const closedAt = Date.now();
      resolve({ answeredAfterMs: answeredAt, closedAfterMs: closedAt - answeredAt, answer });
    });
  });
}

/** Holds the lock every insert into usage_events needs, from another connection, until released. */
async function blockIngestion(dialect: EngineName, config: DatabaseConfig): Promise<() => Promise<void>> {
  if (config.kind === 'sqlite') {
    const other = new SQLite(config.path);
    other.exec('begin immediate');
    return async () => {
      other.exec('rollback');
      other.close();
    };
  }
  assert.equal(dialect, 'postgres');
  const other = new pg.Client({ connectionString: POSTGRES_URL });
  await other.connect();
  await other.query('begin');
  await other.query(`lock table ${config.schema}.usage_events in exclusive mode`);
  return async () => {
    await other.query('rollback');
    await other.end();
  };
}

for (const dialect of DIALECTS) {
  describe(`resource limits on a running server [${dialect}]`, () => {
    let database: TestDatabase;
    let databaseConfig: DatabaseConfig;
    let storage: Storage;
    let app: FastifyInstance;
    let port: number;
    let adminKey: string;
    let orgId: string;
    /** Tells this server's PostgreSQL connections from those of other test files. */
    const applicationName = `limits_${process.pid}`;

    before(async () => {
      database = await createTestDatabase(dialect);
      databaseConfig =
        database.config.kind === 'postgres'
          ? { ...database.config, url: `${POSTGRES_URL}?application_name=${applicationName}`, poolSize: POOL_SIZE }
          : database.config;
      // As the server opens it (src/main.ts): REQUEST_TIMEOUT_MS bounds the database work too.
      storage = await openStorage(databaseConfig, { timeoutMs: REQUEST_TIMEOUT_MS });
      await migrateToLatest(storage);
      const config = loadConfig({
        HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
        BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES),
        RATE_LIMIT_PER_MINUTE: '0',
        LOG_LEVEL: 'silent',
      });
      app = await appOver({ storage, config, clock: Date.now });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address();
      port = typeof address === 'object' && address ? address.port : 0;
      adminKey = (await createAdminKey(storage.db, 'limits admin', Date.now())).secret;
      orgId = (await createOrganization(storage.db, { name: 'Limits' }, Date.now())).id;
    });
    after(async () => {
      await app.close();
      await storage.close();
      await database.drop();
    });

    const events = (prefix: string, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        id: `${prefix}-${i}`,
        organization_id: orgId,
        model: 'gpt-4o',
        neurons: 10,
        synapses: 20,
        cost: '0.001',
      }));
    const post = async (url: string, body: unknown, init: { raw?: string } = {}) => {
      const response = await fetch(`http://127.0.0.1:${port}${url}`, {
        method: 'POST',
        headers: { 'x-api-key': adminKey, 'content-type': 'application/json' },
        body: init.raw ?? JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : undefined };
    };
    const storedIds = async (prefix: string) =>
      (await storage.db.selectFrom('usage_events').select('id').where('id', 'like', `${prefix}-%`).execute()).length;

    it('answers 503 when a request takes longer than REQUEST_TIMEOUT_MS, and the batch sent again is stored once', async () => {
      // First use of the key and of the writer are out of the way (both write on their own).
      assert.equal((await post('/v1/usage/events', { events: events('warm', 1) })).status, 200);
      const release = await blockIngestion(dialect, databaseConfig);
      const started = Date.now();
      let timedOut: Awaited<ReturnType<typeof post>>;
      try {
        timedOut = await post('/v1/usage/events', { events: events('stalled', 5) });
      } finally {
        await release();
      }
      const tookMs = Date.now() - started;
      assertEnvelope(assert, timedOut as never, 503, 'SERVICE_UNAVAILABLE');
      assert.ok(tookMs >= REQUEST_TIMEOUT_MS - 20, `answered after ${tookMs} ms, before the timeout`);
      assert.ok(tookMs < REQUEST_TIMEOUT_MS + BUSY_MS, `answered after ${tookMs} ms`);
      // Not acknowledged, so the reporter sends it again: every event counts once.
      const retried = await post('/v1/usage/events', { events: events('stalled', 5) });
      assert.equal(retried.status, 200, retried.text);
      assert.equal(retried.body.accepted + retried.body.duplicates, 5);
      assert.equal(await storedIds('stalled'), 5);
    });

    it('closes an idle keep-alive connection after KEEP_ALIVE_TIMEOUT_MS, not before', async () => {
      const { closedAfterMs, answer } = await idleAfterAnswer(port);
      assert.match(answer, /^HTTP\/1\.1 200/);
      assert.match(answer, /connection: keep-alive/i);
      assert.ok(closedAfterMs >= KEEP_ALIVE_TIMEOUT_MS - 20, `closed ${closedAfterMs} ms after the answer`);
      assert.ok(closedAfterMs < KEEP_ALIVE_TIMEOUT_MS + NODE_SLACK_MS + BUSY_MS, `held ${closedAfterMs} ms`);
    });

    it('answers 413 to a body over BODY_LIMIT_BYTES and writes nothing', async () => {
      const batch = (prefix: string, bytes: number) => {
        const body = { events: events(prefix, 1) };
        const text = JSON.stringify(body);
        return `${text.slice(0, -1)}${' '.repeat(bytes - text.length)}}`;
      };
      const fits = await post('/v1/usage/events', undefined, { raw: batch('fits', BODY_LIMIT_BYTES) });
      assert.equal(fits.status, 200, fits.text);
      const over = await post('/v1/usage/events', undefined, { raw: batch('over', BODY_LIMIT_BYTES + 1) });
      assertEnvelope(assert, over as never, 413, 'PAYLOAD_TOO_LARGE');
      assert.equal(await storedIds('over'), 0);
    });

    it('opens no more than DATABASE_POOL_SIZE connections under load, and uses them all', {
      skip: dialect === 'sqlite' && 'SQLite has no pool: one connection and the ingestion writer thread',
    }, async () => {
      const watcher = new pg.Client({ connectionString: POSTGRES_URL });
      await watcher.connect();
      const counts: number[] = [];
      let loading = true;
      const watching = (async () => {
        while (loading) {
          const { rows } = await watcher.query(
            'select count(*)::int as n from pg_stat_activity where application_name = $1',
            [applicationName],
          );
          counts.push(rows[0].n);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      try {
        const load = Array.from({ length: 60 }, async (_, i) => {
          const response =
            i % 3 === 0
              ? await post('/v1/usage/events', { events: events(`load${i}`, 20) })
              : i % 3 === 1
                ? await post('/v1/usage/authorize', { organization_id: orgId, estimated_cost: 0.001 })
                : await fetch(`http://127.0.0.1:${port}/v1/analytics/usage/summary/${orgId}`, {
                    headers: { 'x-api-key': adminKey },
                  });
          return response.status;
        });
        assert.deepEqual(new Set(await Promise.all(load)), new Set([200]));
      } finally {
        loading = false;
        await watching;
        await watcher.end();
      }
      assert.equal(Math.max(...counts), POOL_SIZE, `connections seen: ${[...new Set(counts)].join(', ')}`);
    });

    it(`cuts off ${SLOW_CLIENTS} clients that send headers byte by byte after HEADERS_TIMEOUT_MS, and serves others meanwhile`, async (t) => {
      const slow = Array.from({ length: SLOW_CLIENTS }, () => slowClient(port, 50));
      let served = 0;
      const deadline = Date.now() + HEADERS_TIMEOUT_MS * 2;
      while (Date.now() < deadline) {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`);
        assert.equal(response.status, 200);
        await response.text();
        served++;
      }
      const results = await Promise.all(slow);
      for (const { closedAfterMs, answer } of results) {
        assert.ok(closedAfterMs >= HEADERS_TIMEOUT_MS - 20, `cut off after ${closedAfterMs} ms, before the timeout`);
        assert.ok(closedAfterMs < HEADERS_TIMEOUT_MS + NODE_SLACK_MS + BUSY_MS, `held for ${closedAfterMs} ms`);
        assert.ok(answer === '' || answer.startsWith('HTTP/1.1 408'), answer.slice(0, 100));
      }
      assert.ok(served > 10, `only ${served} requests served`);
      const longest = Math.max(...results.map((r) => r.closedAfterMs));
      t.diagnostic(
        `${SLOW_CLIENTS} slow clients cut off after at most ${longest} ms; ${served} requests served meanwhile`,
      );
    });
  });
}

describe('configured bounds', () => {
  it('bounds body size, request and header time, keep-alive and the database pool', () => {
    const defaults = loadConfig({ DATABASE_URL: 'postgres://u@h/db' });
    assert.equal(defaults.bodyLimit, 1_048_576);
    assert.equal(defaults.requestTimeoutMs, 30_000);
    assert.equal(defaults.headersTimeoutMs, 10_000);
    assert.equal(defaults.keepAliveTimeoutMs, 5_000);
    assert.deepEqual(defaults.database, {
      kind: 'postgres',
      url: 'postgres://u@h/db',
      poolSize: 10,
      ingestConcurrency: 2,
    });
    const set = loadConfig({
      BODY_LIMIT_BYTES: '2048',
      REQUEST_TIMEOUT_MS: '5000',
      HEADERS_TIMEOUT_MS: '2000',
      KEEP_ALIVE_TIMEOUT_MS: '1000',
    });
    assert.deepEqual(
      [set.bodyLimit, set.requestTimeoutMs, set.headersTimeoutMs, set.keepAliveTimeoutMs],
      [2048, 5000, 2000, 1000],
    );
    for (const name of ['BODY_LIMIT_BYTES', 'REQUEST_TIMEOUT_MS', 'HEADERS_TIMEOUT_MS', 'KEEP_ALIVE_TIMEOUT_MS']) {
      assert.throws(() => loadConfig({ [name]: '0' }), new RegExp(name));
    }
    assert.throws(() => loadConfig({ DATABASE_URL: 'postgres://u@h/db', DATABASE_POOL_SIZE: '500' }), /POOL_SIZE/);
  });
});
