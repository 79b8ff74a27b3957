/**
 * /healthz says the process is up; /readyz says whether it can serve: database reachable,
 * migrated, its tables and columns intact and readable, and writable.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { MIGRATION_NAMES, migrateToLatest } from '../src/storage/migrate.ts';
import { openStorage, type Storage } from '../src/storage/storage.ts';
import {
  appOver,
  assertEnvelope,
  createTestDatabase,
  DIALECTS,
  migrateTestDatabaseTo,
  POSTGRES_URL,
  sqliteConnection,
  type TestResponse,
} from './harness.ts';

const CONFIG = {
  bodyLimit: 1_048_576,
  requestTimeoutMs: 30_000,
  logLevel: 'silent',
  reservationTtlSeconds: 300,
} as const;

/** An app over `storage`, asked in-process (no port needed). */
async function probe(storage: Storage, url: string): Promise<TestResponse> {
  const app = await appOver({ storage, config: CONFIG, clock: Date.now });
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
      const storage = await openStorage(database.config);
      try {
        await migrateToLatest(storage);
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
      const storage = await openStorage(database.config);
      try {
        assert.ok(MIGRATION_NAMES.length >= 2, 'needs at least two migrations to leave one pending');
        await migrateTestDatabaseTo(storage, MIGRATION_NAMES[0]!);

        const pending = await probe(storage, '/readyz');
        assertEnvelope(assert, pending, 503, 'SERVICE_UNAVAILABLE');
        assert.equal(pending.body.error.system_message, 'Migrations pending');
        assert.equal((await probe(storage, '/healthz')).status, 200, 'the process itself is up');

        await migrateToLatest(storage);
        assert.equal((await probe(storage, '/readyz')).status, 200);
      } finally {
        await storage.close();
        await database.drop();
      }
    });

    it('is not ready once the database is closed', async () => {
      const database = await createTestDatabase(dialect);
      const storage = await openStorage(database.config);
      try {
        await migrateToLatest(storage);
        await storage.close();
        const closed = await probe(storage, '/readyz');
        assertEnvelope(assert, closed, 503, 'SERVICE_UNAVAILABLE');
        assert.equal(closed.body.error.system_message, 'Database unreachable');
        assert.equal((await probe(storage, '/healthz')).status, 200);
      } finally {
        await database.drop();
      }
    });

    it('is not ready while a table lacks a column, and ready again once it is back', async () => {
      const database = await createTestDatabase(dialect);
      const storage = await openStorage(database.config);
      try {
        await migrateToLatest(storage);
        await sql`alter table admin_keys rename column last_used_at to last_used`.execute(storage.db);
        const broken = await probe(storage, '/readyz');
        assertEnvelope(assert, broken, 503, 'SERVICE_UNAVAILABLE');
        assert.match(broken.body.error.system_message, /^Database schema incomplete/);
        await sql`alter table admin_keys rename column last_used to last_used_at`.execute(storage.db);
        assert.equal((await probe(storage, '/readyz')).status, 200);
      } finally {
        await storage.close();
        await database.drop();
      }
    });

    if (dialect === 'sqlite') {
      it('is not ready while the connection is read-only', async () => {
        const database = await createTestDatabase(dialect);
        const storage = await openStorage(database.config);
        try {
          await migrateToLatest(storage);
          sqliteConnection(storage).pragma('query_only = on');
          const readOnly = await probe(storage, '/readyz');
          assertEnvelope(assert, readOnly, 503, 'SERVICE_UNAVAILABLE');
          assert.equal(readOnly.body.error.system_message, 'Database is read-only');
          sqliteConnection(storage).pragma('query_only = off');
          assert.equal((await probe(storage, '/readyz')).status, 200);
        } finally {
          await storage.close();
          await database.drop();
        }
      });

      it('is not ready while the file is not writable (immutable, even to root)', async (t) => {
        const database = await createTestDatabase(dialect);
        const storage = await openStorage(database.config);
        const file = sqliteConnection(storage).name;
        try {
          await migrateToLatest(storage);
          if (spawnSync('chattr', ['+i', file]).status !== 0) {
            t.skip('chattr +i is not available here');
            return;
          }
          const readOnly = await probe(storage, '/readyz');
          assertEnvelope(assert, readOnly, 503, 'SERVICE_UNAVAILABLE');
          assert.equal(readOnly.body.error.system_message, 'Database is read-only');
          spawnSync('chattr', ['-i', file]);
          assert.equal((await probe(storage, '/readyz')).status, 200);
        } finally {
          spawnSync('chattr', ['-i', file]);
          await storage.close();
          await database.drop();
        }
      });

      it('is not ready on a corrupt file', async () => {
        const database = await createTestDatabase(dialect);
        const file = (database.config as { path: string }).path;
        const setup = await openStorage(database.config);
        await migrateToLatest(setup);
        const { rootpage } = sqliteConnection(setup)
          .prepare("select rootpage from sqlite_master where name = 'organizations'")
          .get() as { rootpage: bigint };
        const pageSize = Number(sqliteConnection(setup).pragma('page_size', { simple: true }));
        await setup.close(); // checkpoints the write-ahead log into the file
        const bytes = fs.readFileSync(file);
        bytes.fill(0xab, (Number(rootpage) - 1) * pageSize, Number(rootpage) * pageSize);
        fs.writeFileSync(file, bytes);
        const storage = await openStorage(database.config);
        try {
          const corrupt = await probe(storage, '/readyz');
          assertEnvelope(assert, corrupt, 503, 'SERVICE_UNAVAILABLE');
          assert.equal(corrupt.body.error.system_message, 'Database file is corrupt');
        } finally {
          await storage.close();
          await database.drop();
        }
      });

      it('answers at once while another connection holds the write lock, and writes nothing', async () => {
        const database = await createTestDatabase(dialect);
        const storage = await openStorage(database.config);
        const file = sqliteConnection(storage).name;
        const writer = new SQLite(file);
        try {
          await migrateToLatest(storage);
          sqliteConnection(storage).pragma('wal_checkpoint(TRUNCATE)');
          writer.exec('begin immediate');
          const started = Date.now();
          assert.equal((await probe(storage, '/readyz')).status, 200);
          assert.ok(Date.now() - started < 2_000, 'did not wait for the lock');
          writer.exec('rollback');
          const version = () => sqliteConnection(storage).pragma('data_version', { simple: true });
          const before = version();
          for (let i = 0; i < 5; i++) assert.equal((await probe(storage, '/readyz')).status, 200);
          assert.equal(fs.statSync(`${file}-wal`).size, 0, 'nothing written to the log');
          assert.equal(version(), before);
        } finally {
          writer.close();
          await storage.close();
          await database.drop();
        }
      });
    }

    if (dialect === 'postgres') {
      it("is not ready while the connections' transactions are read-only", async () => {
        const database = await createTestDatabase(dialect);
        const setup = await openStorage(database.config);
        const schema = (database.config as { schema: string }).schema;
        // Only this storage's connections are read-only: the setting travels in their start-up options.
        const url = new URL(POSTGRES_URL);
        url.searchParams.set('options', `-c search_path=${schema} -c default_transaction_read_only=on`);
        const storage = await openStorage({ kind: 'postgres', url: url.toString(), poolSize: 1 });
        try {
          await migrateToLatest(setup);
          const readOnly = await probe(storage, '/readyz');
          assertEnvelope(assert, readOnly, 503, 'SERVICE_UNAVAILABLE');
          assert.equal(readOnly.body.error.system_message, 'Database is read-only');
          assert.equal((await probe(setup, '/readyz')).status, 200, 'other connections still write');
        } finally {
          await storage.close();
          await setup.close();
          await database.drop();
        }
      });

      it('is not ready when PostgreSQL cannot be reached', async () => {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        const url = new URL(POSTGRES_URL);
        url.port = '1';
        const storage = await openStorage({ kind: 'postgres', url: url.toString(), poolSize: 1 });
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
