import { type Kysely, sql } from 'kysely';
import type { EngineName } from '../storage.ts';

// Frozen: this migration never imports application code. When an API key was deleted, in
// epoch milliseconds: ingestion accepts an event for a key only if the key existed at the
// event's time. Keys deleted before this column existed get the time of the migration: they
// were deleted by then, and every event they could have made until then stays acceptable.
// The partial index serves the per-process scan for keys deleted since the last look.

export async function up(db: Kysely<any>, _engine: EngineName): Promise<void> {
  await db.schema.alterTable('api_keys').addColumn('deleted_at', 'bigint').execute();
  await db.updateTable('api_keys').set({ deleted_at: Date.now() }).where('state', '=', 'deleted').execute();
  await db.schema
    .createIndex('api_keys_deleted_at_idx')
    .on('api_keys')
    .column('deleted_at')
    .where(sql.ref('deleted_at'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('api_keys_deleted_at_idx').execute();
  await db.schema.alterTable('api_keys').dropColumn('deleted_at').execute();
}
