/**
 * Requests that Node's HTTP parser refuses before any route runs (headers too large, a
 * malformed request line or header, a body that never finishes) are answered in the error
 * envelope with a trace id in body and header, and the connection is closed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createAdminKey } from '../src/modules/admin-keys/admin-keys.service.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { openStorage, type Storage } from '../src/storage/storage.ts';
import { appOver, createTestDatabase, DIALECTS, type TestDatabase } from './harness.ts';
import { type RawResponse, rawRequest } from './raw-http.ts';

const REQUEST_TIMEOUT_MS = 1_000;

describe('requests the HTTP parser refuses', () => {
  let database: TestDatabase;
  let storage: Storage;
  let app: FastifyInstance;
  let port: number;
  let adminKey: string;
  const logs: Array<Record<string, unknown>> = [];

  before(async () => {
    database = await createTestDatabase(DIALECTS[0] ?? 'sqlite');
    storage = await openStorage(database.config);
    await migrateToLatest(storage);
    adminKey = (await createAdminKey(storage.db, 'test admin', Date.now())).secret;
    const { Writable } = await import('node:stream');
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
        done();
      },
    });
    app = await appOver({
      storage,
      config: {
        bodyLimit: 1_048_576,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
        headersTimeoutMs: REQUEST_TIMEOUT_MS,
        keepAliveTimeoutMs: 5_000,
        logLevel: 'info',
        reservationTtlSeconds: 300,
      },
      clock: Date.now,
      logStream,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  after(async () => {
    await app.close();
    await storage.close();
    await database.drop();
  });

  function assertParserEnvelope(response: RawResponse, status: number, code: string) {
    assert.equal(response.status, status, response.text);
    assert.equal(response.body?.success, false, response.text);
    const error = response.body.error;
    assert.equal(error.code, code, response.text);
    assert.equal(error.status, status);
    for (const field of ['message', 'system_message', 'type', 'trace_id', 'timestamp']) {
      assert.equal(typeof error[field], 'string', `error.${field} in ${response.text}`);
    }
    assert.match(error.trace_id, /^[0-9a-f-]{36}$/);
    assert.equal(response.headers['x-trace-id'], error.trace_id);
    assert.equal(response.headers.connection, 'close');
    assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
    assert.ok(
      logs.some((line) => line.trace_id === error.trace_id && line.status === status),
      'the trace id is in the log',
    );
  }

  it('answers headers over the size limit with 431', async () => {
    const response = await rawRequest(
      port,
      `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    assertParserEnvelope(response, 431, 'REQUEST_HEADERS_TOO_LARGE');
  });

  const malformed: Array<[string, string]> = [
    ['a request line that is not HTTP', 'HELLO\r\n\r\n'],
    ['an unknown HTTP version', 'GET /healthz HTTP/7.1\r\nHost: localhost\r\n\r\n'],
    ['a space in the method', 'G T /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n'],
    ['a header without a colon', 'GET /healthz HTTP/1.1\r\nHost localhost\r\n\r\n'],
    ['a control character in a header name', 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-\u0001: 1\r\n\r\n'],
    [
      'both Content-Length and chunked',
      'POST /v1/usage/events HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}',
    ],
    ['a bad chunk size', 'POST /healthz HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
  ];
  for (const [name, request] of malformed) {
    it(`answers ${name} with 400`, async () => {
      const response = await rawRequest(port, request);
      assertParserEnvelope(response, 400, 'INVALID_REQUEST');
      assert.match(response.body.error.system_message, /^The request is not valid HTTP: /);
    });
  }

  it('answers a body that does not arrive within the request timeout with 408', async () => {
    const started = Date.now();
    const response = await rawRequest(port, [
      `POST /v1/usage/events HTTP/1.1\r\nHost: localhost\r\nX-API-Key: ${adminKey}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`,
      '{"events": [',
    ]);
    assertParserEnvelope(response, 408, 'REQUEST_TIMEOUT');
    // The timeout plus one check interval, with room for a busy machine.
    assert.ok(Date.now() - started < REQUEST_TIMEOUT_MS * 2 + 3_000);
    assert.deepEqual(
      logs.filter((line) => (line.level as number) >= 50),
      [],
      'nothing logged as an error',
    );
  });

  it('keeps serving other clients', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(response.status, 200);
  });
});
