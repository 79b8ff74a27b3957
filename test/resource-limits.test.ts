/**
 * Resource limits: slow clients are cut off while others are served (slowloris: headers sent
 * a byte at a time), and every bound is configurable with a clear error for a wrong value.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openStorage, type Storage } from '../src/storage/database.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { createTestDatabase, DIALECTS, type TestDatabase } from './harness.ts';

const HEADERS_TIMEOUT_MS = 1_000;
const SLOW_CLIENTS = 50;

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

describe('slow clients', () => {
  let database: TestDatabase;
  let storage: Storage;
  let app: FastifyInstance;
  let port: number;

  before(async () => {
    database = await createTestDatabase(DIALECTS[0] ?? 'sqlite');
    storage = openStorage(database.config);
    await migrateToLatest(storage.db, storage.dialect);
    const config = loadConfig({ HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), LOG_LEVEL: 'silent' });
    app = await buildApp({ storage, config, clock: Date.now });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  after(async () => {
    await app.close();
    await storage.close();
    await database.drop();
  });

  it(`cuts off ${SLOW_CLIENTS} clients that send headers byte by byte, and serves others meanwhile`, async (t) => {
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
      // The headers timeout plus one check interval (1 s), with room for a busy machine.
      assert.ok(closedAfterMs < HEADERS_TIMEOUT_MS + 1_000 + 2_000, `held for ${closedAfterMs} ms`);
      assert.ok(answer === '' || answer.startsWith('HTTP/1.1 408'), answer.slice(0, 100));
    }
    assert.ok(served > 10, `only ${served} requests served`);
    const longest = Math.max(...results.map((r) => r.closedAfterMs));
    t.diagnostic(
      `${SLOW_CLIENTS} slow clients cut off after at most ${longest} ms; ${served} requests served meanwhile`,
    );
  });
});

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
