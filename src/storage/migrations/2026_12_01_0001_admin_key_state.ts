import type { Kysely } from 'kysely';
import type { EngineName } from '../storage.ts';

// Frozen: this migration never imports application code. Platform admin keys can be deleted:
// the row stays, with its state and time of deletion, so that a listing shows what was
// revoked when, and so that the server knows the database has had an admin key (it prints a
// first one only on a database that never had any).

export async function up(db: Kysely<any>, _engine: EngineName): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds one at a time.
  await db.schema
    .alterTable('admin_keys')
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('active'))
    .execute();
  await db.schema.alterTable('admin_keys').addColumn('deleted_at', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('admin_keys').dropColumn('deleted_at').execute();
  await db.schema.alterTable('admin_keys').dropColumn('state').execute();
}
