/**
 * Migrating one schema of a PostgreSQL database while other schemas of it come and go (other
 * tenants, or other test files): Kysely's migrator lists the tables of every schema, and that
 * listing fails when a schema is dropped during it. And migrating a database that has data.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import pg from 'pg';
import { generateSecret } from '../src/modules/api-keys/secrets.ts';
import { authenticate } from '../src/modules/auth/authenticate.ts';
import { MIGRATION_NAMES, migrateToLatest } from '../src/storage/migrate.ts';
import { openStorage } from '../src/storage/storage.ts';
import { createTestDatabase, DIALECTS, migrateTestDatabaseTo, POSTGRES_URL } from './harness.ts';

// PostgreSQL only: SQLite has no schemas, and a SQLite file holds one database.
describe('migrations beside other schemas', { skip: !DIALECTS.includes('postgres') }, () => {
  it('migrate while other schemas of the database are created and dropped', async () => {
    const churn = new pg.Client({ connectionString: POSTGRES_URL });
    await churn.connect();
    let stop = false;
    const churning = (async () => {
      while (!stop) {
        const name = `churn_${randomBytes(5).toString('hex')}`;
        await churn.query(`create schema ${name}; create table ${name}.t (a int, b text)`);
        await churn.query(`drop schema ${name} cascade`);
      }
    })();
    try {
      for (let i = 0; i < 10; i++) {
        const database = await createTestDatabase('postgres');
        const storage = await openStorage(database.config);
        try {
          assert.equal((await migrateToLatest(storage)).length, MIGRATION_NAMES.length);
          const count = await storage.db
            .selectFrom('usage_events')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow();
          assert.equal(Number(count.n), 0);
        } finally {
          await storage.close();
          await database.drop();
        }
      }
    } finally {
      stop = true;
      await churning;
      await churn.end();
    }
  });
});

for (const dialect of DIALECTS) {
  describe(`migrating a database with admin keys [${dialect}]`, () => {
    it('keeps every admin key active and working, and migrates back down', async () => {
      const database = await createTestDatabase(dialect);
      const storage = await openStorage(database.config);
      try {
        await migrateTestDatabaseTo(storage, '2026_11_23_0004_open_reservations');
        const { secret, prefix, hash } = generateSecret();
        const db = storage.db as any;
        await db
          .insertInto('admin_keys')
          .values({
            id: 'admin_old',
            name: 'old',
            key_prefix: prefix,
            key_hash: hash,
            created_at: 1,
            last_used_at: null,
          })
          .execute();

        assert.deepEqual(await migrateTestDatabaseTo(storage, '2026_12_01_0001_admin_key_state'), [
          '2026_12_01_0001_admin_key_state',
        ]);
        const row = await storage.db.selectFrom('admin_keys').selectAll().executeTakeFirstOrThrow();
        assert.equal(row.state, 'active');
        assert.equal(row.deleted_at, null);
        assert.deepEqual(await authenticate(storage.db, secret, Date.now()), { kind: 'admin', keyId: 'admin_old' });

        assert.deepEqual(await migrateTestDatabaseTo(storage, '2026_11_23_0004_open_reservations'), [
          '2026_12_01_0001_admin_key_state',
        ]);
        const columns = Object.keys(await db.selectFrom('admin_keys').selectAll().executeTakeFirstOrThrow());
        assert.ok(!columns.includes('state') && !columns.includes('deleted_at'), columns.join());
      } finally {
        await storage.close();
        await database.drop();
      }
    });
  });
}
