/**
 * Secrets at rest and in process output: after keys are created and used, neither the
 * database (the SQLite file and its WAL, every PostgreSQL table as text) nor anything the
 * server process writes contains a secret or its private part. The only exception is the
 * first admin key, which the server prints once on standard error by design. Hashes are
 * compared with crypto.timingSafeEqual, on the way every request authenticates.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { describe, it, mock } from 'node:test';
import { sql } from 'kysely';
import { hashesEqual, hashSecret } from '../src/modules/api-keys/secrets.ts';
import { createTestDatabase, DIALECTS, forEachDialect, makeApiKey, makeOrg } from './harness.ts';
import { startServerProcess } from './process.ts';

/** The full secret and two stretches of its private part (after the 12-character public prefix). */
function fragments(secret: string): string[] {
  return [secret, secret.slice(12), secret.slice(-16)];
}

function findLeaks(text: string, secrets: string[]): string[] {
  return secrets.filter((secret) => fragments(secret).some((f) => text.includes(f)));
}

forEachDialect('secrets at rest', (server) => {
  it('stores no secret, only hashes and public prefixes', async () => {
    const s = server();
    const org = await makeOrg(s);
    const secrets = [s.adminKey, (await makeApiKey(s, org.id)).secret];
    for (const name of ['created over HTTP', 'second']) {
      const response = await s.request('POST', `/v1/organizations/${org.id}/api-keys`, {
        key: s.adminKey,
        body: { key_name: name },
      });
      assert.equal(response.status, 201, response.text);
      secrets.push(response.body.key);
    }
    // Use every key once, so that anything written on use (last use, caches) is written too.
    for (const secret of secrets) {
      const response = await s.request('GET', `/v1/analytics/usage/summary/${org.id}`, { key: secret });
      assert.equal(response.status, 200);
    }

    let stored: string;
    if (s.dialect === 'sqlite') {
      const file = (s.database.config as { path: string }).path;
      // Recent writes may still sit in the write-ahead log, so it is read too.
      stored = [file, `${file}-wal`]
        .filter((f) => fs.existsSync(f))
        .map((f) => fs.readFileSync(f).toString('latin1'))
        .join('\n');
    } else {
      const tables = await sql<{ table_name: string }>`
        select table_name from information_schema.tables where table_schema = current_schema()`.execute(s.storage.db);
      assert.ok(tables.rows.length >= 8);
      const dumps: string[] = [];
      for (const { table_name } of tables.rows) {
        const rows = await sql<{ row: string }>`select t::text as row from ${sql.table(table_name)} t`.execute(
          s.storage.db,
        );
        dumps.push(...rows.rows.map((r) => r.row));
      }
      stored = dumps.join('\n');
    }
    assert.ok(stored.length > 1000, 'read the stored data');
    // The public prefix is stored (it identifies a leaked key); nothing beyond it is.
    assert.ok(stored.includes(secrets[1]!.slice(0, 12)), 'public prefix stored');
    assert.deepEqual(findLeaks(stored, secrets), []);
  });
});

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

describe('hash comparison', () => {
  const hash = hashSecret('fak_example');

  it('is true for the same hash only, and false for other lengths or anything not hex', () => {
    assert.equal(hashesEqual(hash, hash), true);
    assert.equal(hashesEqual(hash, hash.toUpperCase()), true, 'hex digits in either case are the same bytes');
    assert.equal(hashesEqual(hash, hashSecret('fak_other')), false);
    assert.equal(hashesEqual(hash, `${hash.slice(0, -1)}${hash.endsWith('0') ? '1' : '0'}`), false);
    assert.equal(hashesEqual(hash, hash.slice(0, -2)), false, 'shorter');
    assert.equal(hashesEqual(hash, `${hash}00`), false, 'longer');
    // Buffer's hex decoding stops at the first non-hex character: these would all decode alike.
    assert.equal(hashesEqual('zz', 'yy'), false);
    assert.equal(hashesEqual(`${hash.slice(0, 62)}zz`, `${hash.slice(0, 62)}yy`), false);
    assert.equal(hashesEqual('', ''), false);
    assert.equal(hashesEqual(`${hash}0`, `${hash}0`), false, 'an odd number of digits');
  });

  forEachDialect('authentication', (server) => {
    it('compares the stored hash with crypto.timingSafeEqual on every lookup of a key', async () => {
      const s = server();
      const org = await makeOrg(s);
      const key = await makeApiKey(s, org.id);
      const spy = mock.method(crypto, 'timingSafeEqual');
      // secrets.ts imported timingSafeEqual by name: point that binding at the spy too.
      syncBuiltinESMExports();
      try {
        const response = await s.request('GET', `/v1/analytics/usage/summary/${org.id}`, { key: key.secret });
        assert.equal(response.status, 200, response.text);
        const compared = spy.mock.calls.map((call) =>
          call.arguments.map((b) => Buffer.from(b as Uint8Array).toString('hex')),
        );
        assert.deepEqual(compared, [[hashSecret(key.secret), hashSecret(key.secret)]]);
        // An unknown secret finds no row, so there is nothing to compare, and it is refused.
        const unknown = await s.request('GET', `/v1/analytics/usage/summary/${org.id}`, { key: 'fak_unknown' });
        assert.equal(unknown.status, 401);
        assert.equal(spy.mock.callCount(), 1);
      } finally {
        spy.mock.restore();
        syncBuiltinESMExports();
      }
    });
  });
});
