/**
 * Secrets at rest: after keys are created and used, the database (the SQLite file and its WAL,
 * every PostgreSQL table as text) contains no secret or its private part. Hashes are compared
 * with crypto.timingSafeEqual, on the way every request authenticates. What the server process
 * writes is checked in e2e/secrets-output.test.ts.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { describe, it, mock } from 'node:test';
import { sql } from 'kysely';
import { hashesEqual, hashSecret } from '../src/modules/api-keys/secrets.ts';
import { forEachDialect, makeApiKey, makeOrg } from './harness.ts';
import { findLeaks } from './leaks.ts';

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
