/**
 * An event may name an API key only if the key existed at the event's time: created at or
 * before it, and not deleted at or before it. A deletion through this process counts at once;
 * one through another process within DELETIONS_POLL_MS.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { DELETIONS_POLL_MS } from '../src/modules/api-keys/key-lifetimes.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { openStorage } from '../src/storage/storage.ts';
import { toNullableNumber, toNumber } from '../src/storage/values.ts';
import {
  appOver,
  assertEnvelope,
  createTestDatabase,
  DIALECTS,
  type EventInput,
  forEachDialect,
  makeApiKey,
  makeOrg,
  migrateTestDatabaseTo,
} from './harness.ts';

const HOUR = 3_600_000;
let now = Date.parse('2026-06-15T12:00:00Z');

forEachDialect(
  'events of keys that did not exist at their time',
  (server) => {
    let orgId: string;
    let n = 0;
    const event = (apiKeyId: string, at: number | undefined): EventInput => ({
      id: `e${n++}`,
      organization_id: orgId,
      api_key_id: apiKeyId,
      model: 'gpt-4o',
      neurons: 1,
      synapses: 1,
      cost: '1',
      ...(at === undefined ? {} : { timestamp: new Date(at).toISOString() }),
    });
    const post = (...events: EventInput[]) =>
      server().request('POST', '/v1/usage/events', { key: server().adminKey, body: { events } });
    const stored = async () =>
      (await server().storage.db.selectFrom('usage_events').select('id').where('organization_id', '=', orgId).execute())
        .length;
    const keyRow = (id: string) =>
      server()
        .storage.db.selectFrom('api_keys')
        .select(['created_at', 'deleted_at'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();

    before(async () => {
      orgId = (await makeOrg(server())).id;
    });

    it('refuses an event dated before its key was created, naming index and field, and writes nothing', async () => {
      const created = await server().request('POST', `/v1/organizations/${orgId}/api-keys`, {
        key: server().adminKey,
        body: { key_name: 'new' },
      });
      assert.equal(created.status, 201, created.text);
      const keyId = created.body.id as string;
      assert.equal(toNumber((await keyRow(keyId)).created_at), now);
      const before = await stored();

      const early = await post(event(keyId, now), event(keyId, now - 1));
      assertEnvelope(assert, early, 400, 'INVALID_REQUEST');
      assert.deepEqual(early.body.error.details.errors, [
        {
          index: 1,
          field: 'events[1].api_key_id',
          reason: `names a key that did not exist yet at the event's time (created ${new Date(now).toISOString()})`,
        },
      ]);
      assert.equal(await stored(), before);
      assert.equal((await post(event(keyId, now))).status, 200);
    });

    it('accepts a key carried over from another system with an earlier created_at', async () => {
      const since = now - 400 * 24 * HOUR;
      const created = await server().request('POST', `/v1/organizations/${orgId}/api-keys`, {
        key: server().adminKey,
        body: { key_name: 'carried over', created_at: new Date(since).toISOString() },
      });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.created_at, new Date(since).toISOString().replace('.000Z', 'Z'));
      assert.equal((await post(event(created.body.id, since))).status, 200);
      for (const createdAt of [new Date(now + 1000).toISOString(), '1999-12-31T23:59:59Z']) {
        const refused = await server().request('POST', `/v1/organizations/${orgId}/api-keys`, {
          key: server().adminKey,
          body: { key_name: 'refused', created_at: createdAt },
        });
        assertEnvelope(assert, refused, 400, 'INVALID_REQUEST');
        assert.match(refused.body.error.system_message, /^created_at must be from 2000-01-01T00:00:00Z to now$/);
      }
    });

    it('refuses events dated at or after the deletion made here, at once; accepts late reports of earlier ones', async () => {
      const keyId = (await makeApiKey(server(), orgId)).id;
      assert.equal((await post(event(keyId, now - HOUR))).status, 200); // the key is known now
      now += 1000;
      const deletedAt = now;
      const deleted = await server().request('DELETE', `/v1/organizations/${orgId}/api-keys/${keyId}`, {
        key: server().adminKey,
      });
      assert.equal(deleted.status, 200, deleted.text);
      assert.equal(toNullableNumber((await keyRow(keyId)).deleted_at), deletedAt);

      const before = await stored();
      const after = await post(event(keyId, deletedAt - 1), event(keyId, deletedAt), event(keyId, undefined));
      assertEnvelope(assert, after, 400, 'INVALID_REQUEST');
      const reason = `names a key already deleted at the event's time (deleted ${new Date(deletedAt).toISOString()})`;
      assert.deepEqual(after.body.error.details.errors, [
        { index: 1, field: 'events[1].api_key_id', reason },
        { index: 2, field: 'events[2].api_key_id', reason },
      ]);
      assert.equal(await stored(), before);
      assert.equal((await post(event(keyId, deletedAt - 1))).status, 200, 'made before the deletion, reported after');
    });

    it(`refuses new events of a key deleted by another process within ${DELETIONS_POLL_MS} ms`, async () => {
      const keyId = (await makeApiKey(server(), orgId)).id;
      assert.equal((await post(event(keyId, now))).status, 200); // known to this process, not deleted
      const other = await openStorage(server().database.config);
      const replica = await appOver({
        storage: other,
        config: { bodyLimit: 1_048_576, requestTimeoutMs: 30_000, logLevel: 'silent', reservationTtlSeconds: 300 },
        clock: () => now,
      });
      try {
        now += 1000;
        const deletedAt = now;
        const deleted = await replica.inject({
          method: 'DELETE',
          url: `/v1/organizations/${orgId}/api-keys/${keyId}`,
          headers: { 'x-api-key': server().adminKey },
        });
        assert.equal(deleted.statusCode, 200, deleted.body);

        now = deletedAt + DELETIONS_POLL_MS;
        const refused = await post(event(keyId, now));
        assertEnvelope(assert, refused, 400, 'INVALID_REQUEST');
        assert.match(refused.body.error.system_message, /events\[0\]\.api_key_id names a key already deleted/);
        assert.equal((await post(event(keyId, deletedAt - 1))).status, 200);
      } finally {
        await replica.close();
        await other.close();
      }
    });
  },
  { clock: () => now },
);

for (const dialect of DIALECTS) {
  it(`gives keys deleted before deleted_at existed the migration's time [${dialect}]`, async () => {
    const database = await createTestDatabase(dialect);
    const storage = await openStorage(database.config);
    try {
      await migrateTestDatabaseTo(storage, '2026_11_23_0004_open_reservations');
      await storage.db.insertInto('organizations').values({ id: 'org_m', name: 'M', created_at: 0 }).execute();
      const key = (id: string, state: 'active' | 'deleted') => ({
        organization_id: 'org_m',
        id,
        name: id,
        key_prefix: 'fak_x',
        key_hash: id,
        scopes: 'read:usage',
        state,
        created_at: 0,
      });
      await storage.db
        .insertInto('api_keys')
        .values([key('apikey_gone', 'deleted'), key('apikey_live', 'active')] as never)
        .execute();
      const started = Date.now();
      await migrateToLatest(storage);
      const rows = await storage.db.selectFrom('api_keys').select(['id', 'deleted_at']).orderBy('id').execute();
      const gone = toNullableNumber(rows[0]!.deleted_at);
      assert.ok(gone !== null && gone >= started && gone <= Date.now(), String(gone));
      assert.deepEqual(rows[1], { id: 'apikey_live', deleted_at: null });
    } finally {
      await storage.close();
      await database.drop();
    }
  });
}
