/**
 * Migrating one schema of a PostgreSQL database while other schemas of it come and go (other
 * tenants, or other test files): Kysely's migrator lists the tables of every schema, and that
 * listing fails when a schema is dropped during it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import pg from 'pg';
import { openStorage } from '../src/storage/database.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { createTestDatabase, DIALECTS, POSTGRES_URL } from './harness.ts';

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
        const storage = openStorage(database.config);
        try {
          assert.equal((await migrateToLatest(storage.db, storage.dialect)).length, 5);
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
