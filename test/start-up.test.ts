/** What a person who just started the server sees and where the server's address leads. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { startupPointers } from '../src/main.ts';
import { forEachDialect } from './harness.ts';

it('points at the dashboard, the API reference and health, on loopback when listening on every interface', () => {
  assert.equal(
    startupPointers('http://0.0.0.0:8080'),
    [
      'freddy-analytics is serving http://127.0.0.1:8080',
      '  dashboard      http://127.0.0.1:8080/dashboard',
      '  API reference  http://127.0.0.1:8080/docs (OpenAPI: http://127.0.0.1:8080/openapi.json)',
      '  health         http://127.0.0.1:8080/healthz, readiness http://127.0.0.1:8080/readyz',
      '',
    ].join('\n'),
  );
  assert.match(startupPointers('http://127.0.0.1:3000'), /dashboard {6}http:\/\/127\.0\.0\.1:3000\/dashboard/);
});

forEachDialect('the server address', (server) => {
  it('redirects / to the dashboard', async () => {
    const response = await fetch(`${server().baseUrl}/`, { redirect: 'manual' });
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), '/dashboard');
  });
});
