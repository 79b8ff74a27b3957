/**
 * Secrets in process output: nothing the server process writes, on standard output or error,
 * contains a secret or its private part, whatever requests it answered. The only exception is
 * the first admin key, which the server prints once on standard error by design.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestDatabase, DIALECTS } from '../harness.ts';
import { findLeaks } from '../leaks.ts';
import { startServerProcess } from '../process.ts';

for (const dialect of DIALECTS) {
  describe(`secrets in process output [${dialect}]`, () => {
    it('never writes a secret to standard output or error', async () => {
      const database = await createTestDatabase(dialect);
      const server = await startServerProcess({ ...database.env, LOG_LEVEL: 'debug' });
      try {
        const admin = /\n\s+(fak_\S+)/.exec(server.stderr.join(''))?.[1];
        assert.ok(admin);
        const call = (method: string, path: string, key: string, body?: unknown) =>
          fetch(server.url + path, {
            method,
            headers: { 'x-api-key': key, ...(body ? { 'content-type': 'application/json' } : {}) },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
        const org = (await (await call('POST', '/v1/organizations', admin, { name: 'Secret Org' })).json()) as {
          id: string;
        };
        const created = await call('POST', `/v1/organizations/${org.id}/api-keys`, admin, { key_name: 'k' });
        const key = ((await created.json()) as { key: string }).key;
        const wrong = `${key.slice(0, -1)}${key.endsWith('a') ? 'b' : 'a'}`;
        const unknown = 'fak_thisisnotakeythisisnotakeythisisnotak';
        assert.equal((await call('GET', `/v1/analytics/usage/summary/${org.id}`, key)).status, 200);
        assert.equal((await call('GET', `/v1/analytics/usage/summary/${org.id}`, wrong)).status, 401);
        assert.equal((await call('GET', `/v1/analytics/usage/summary/${org.id}`, unknown)).status, 401);
        assert.equal((await call('POST', '/v1/usage/events', key, { events: 'bad' })).status, 400);
        assert.equal((await call('GET', '/v1/no-such-route', key)).status, 404);
        await call('POST', `/v1/organizations/${org.id}/api-keys/${'x'.repeat(5)}/deactivate`, key);

        server.child.kill('SIGTERM');
        await server.exited;
        const stdout = server.stdout.join('\n');
        const stderr = server.stderr.join('');
        assert.ok(stdout.includes('"status":401'), 'requests were logged');
        assert.deepEqual(findLeaks(stdout, [admin, key, wrong, unknown]), []);
        assert.deepEqual(findLeaks(stderr, [key, wrong, unknown]), []);
        // The first admin key is shown exactly once, on purpose, when the database was empty.
        assert.equal(stderr.split(admin).length - 1, 1);
      } finally {
        if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
        await database.drop();
      }
    });
  });
}
