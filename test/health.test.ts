/** /healthz says the process is up; /readyz says whether it can serve: database reachable, schema current. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildApp } from '../src/app.ts';
import { openStorage, type Storage } from '../src/storage/database.ts';
import { migrateToLatest, migrator } from '../src/storage/migrate.ts';
import { assertEnvelope, createTestDatabase, DIALECTS, POSTGRES_URL, type TestResponse } from './harness.ts';

const CONFIG = {
  bodyLimit: 1_048_576,
  requestTimeoutMs: 30_000,
  logLevel: 'silent',
  reservationTtlSeconds: 300,
} as const;

/** An app over `storage`, asked in-process (no port needed). */
async function probe(storage: Storage, url: string): Promise<TestResponse> {
  const app = await buildApp({ storage, config: CONFIG, clock: Date.now });
  try {
    const response = await app.inject({ method: 'GET', url });
    const headers = new Headers();
    for (const [name, value] of Object.entries(response.headers)) headers.set(name, String(value));
    return { status: response.statusCode, headers, body: response.json(), text: response.body };
  } finally {
    await app.close();
  }
}

for (const dialect of DIALECTS) {
  describe(`health and readiness [${dialect}]`, () => {
    it('is ready on a migrated database', async () => {
      const database = await createTestDatabase(dialect);
      const storage = openStorage(database.config);
      try {
        await migrateToLatest(storage.db, storage.dialect);
        const ready = await probe(storage, '/readyz');
        assert.equal(ready.status, 200, ready.text);
        assert.deepEqual(ready.body, { status: 'ready' });
        assert.deepEqual((await probe(storage, '/healthz')).body, { status: 'ok' });
      } finally {
        await storage.close();
        await database.drop();
      }
    });

    it('is not ready while migrations are pending, and becomes ready once they ran', async () => {
      const database = await createTestDatabase(dialect);
      const storage = openStorage(database.config);
      try {
        const steps = await (await migrator(storage.db, storage.dialect)).getMigrations();
        assert.ok(steps.length >= 2, 'needs at least two migrations to leave one pending');
        const { error } = await (await migrator(storage.db, storage.dialect)).migrateTo(steps[0]!.name);
        assert.equal(error, undefined);

        const pending = await probe(storage, '/readyz');
        assertEnvelope(assert, pending, 503, 'SERVICE_UNAVAILABLE');
        assert.equal(pending.body.error.system_message, 'Migrations pending');
        assert.equal((await probe(storage, '/healthz')).status, 200, 'the process itself is up');

        await migrateToLatest(storage.db, storage.dialect);
        assert.equal((await probe(storage, '/readyz')).status, 200);
      } finally {
        await storage.close();
        await database.drop();
      }
    });

    it('is not ready once the database is closed', async () => {
      const database = await createTestDatabase(dialect);
      const storage = openStorage(database.config);
      try {
        await migrateToLatest(storage.db, storage.dialect);
        await storage.close();
        const closed = await probe(storage, '/readyz');
        assertEnvelope(assert, closed, 503, 'SERVICE_UNAVAILABLE');
        assert.equal(closed.body.error.system_message, 'Database unreachable');
        assert.equal((await probe(storage, '/healthz')).status, 200);
      } finally {
        await database.drop();
      }
    });

    if (dialect === 'postgres') {
      it('is not ready when PostgreSQL cannot be reached', async () => {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        const url = new URL(POSTGRES_URL);
        url.port = '1';
        const storage = openStorage({ kind: 'postgres', url: url.toString(), poolSize: 1 });
        try {
          const unreachable = await probe(storage, '/readyz');
          assertEnvelope(assert, unreachable, 503, 'SERVICE_UNAVAILABLE');
          assert.equal(unreachable.body.error.system_message, 'Database unreachable');
          assert.doesNotMatch(unreachable.text, /ECONNREFUSED|127\.0\.0\.1/, 'no connection details leak');
        } finally {
          await storage.close();
        }
      });
    }
  });
}
