/**
 * The /docs assets are files on disk: a path that tries to leave their folder, in any spelling
 * (sent raw, as fetch would normalize it), is a 404 in the envelope, with nothing logged as an
 * error; the file server's own client errors (a range past the end) are 4xx too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DIALECTS, startTestServer, type TestServer } from './harness.ts';
import { type RawResponse, rawRequest } from './raw-http.ts';

const TRAVERSALS = [
  '/docs/static/../../etc/passwd',
  '/docs/static/../../../../../../etc/passwd',
  '/docs/static/%2e%2e/%2e%2e/etc/passwd',
  '/docs/static/%2E%2E/%2E%2E/etc/passwd',
  '/docs/static/..%2f..%2fetc%2fpasswd',
  '/docs/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '/docs/static/..\\..\\etc\\passwd',
  '/docs/static/%2e%2e%5c%2e%5cetc%5cpasswd',
  '/docs/static/..',
  '/docs/static/../package.json',
  '/docs/static/./index.css',
  '/docs/static//index.css',
  '/docs/../docs/static/index.css',
  '/docs/static/.%2e/.%2e/etc/passwd',
];

describe('paths under /docs', () => {
  let server: TestServer;
  let port: number;

  before(async () => {
    server = await startTestServer(DIALECTS[0] ?? 'sqlite');
    port = Number(new URL(server.baseUrl).port);
  });
  after(() => server.close());

  const get = (path: string, headers = '') =>
    rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${headers}Connection: close\r\n\r\n`);

  function assertRawEnvelope(response: RawResponse, status: number, code: string) {
    assert.equal(response.status, status, response.text);
    assert.equal(response.body?.success, false, response.text);
    assert.equal(response.body.error.code, code);
    assert.equal(response.body.error.status, status);
    assert.equal(response.headers['x-trace-id'], response.body.error.trace_id);
    assert.match(response.headers['content-type'] ?? '', /^application\/json/);
  }

  it('serves the docs assets themselves', async () => {
    const css = await get('/docs/static/index.css');
    assert.equal(css.status, 200);
    assert.match(css.headers['content-type'] ?? '', /text\/css/);
  });

  it('serves at /docs/json the document served at /openapi.json', async () => {
    const [copy, document] = await Promise.all([get('/docs/json'), get('/openapi.json')]);
    assert.equal(copy.status, 200);
    assert.deepEqual(copy.body, document.body);
  });

  for (const path of TRAVERSALS) {
    it(`answers 404 to ${path}, logging no error`, async () => {
      const logged = server.logs.length;
      const response = await get(path);
      assertRawEnvelope(response, 404, 'NOT_FOUND');
      assert.doesNotMatch(response.text, /root:|"name":\s*"freddy-analytics"|stack/);
      const lines = server.logs.slice(logged).map((line) => JSON.parse(line) as { level: number });
      assert.deepEqual(
        lines.filter((line) => line.level >= 50),
        [],
      );
      assert.ok(lines.some((line) => (line as { status?: number }).status === 404));
    });
  }

  it('answers a range past the end of a file with a 400, not a 500', async () => {
    const logged = server.logs.length;
    const response = await get('/docs/static/index.css', 'Range: bytes=99999999-\r\n');
    assertRawEnvelope(response, 400, 'INVALID_REQUEST');
    assert.equal(response.body.error.system_message, 'Range Not Satisfiable');
    const failed = await get('/docs/static/index.css', 'If-Match: "nope"\r\n');
    assertRawEnvelope(failed, 400, 'INVALID_REQUEST');
    assert.ok(server.logs.slice(logged).every((line) => JSON.parse(line).level < 50));
  });
});
