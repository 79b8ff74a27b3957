import type { Kysely } from 'kysely';
import type { EngineName } from '../storage.ts';

// Frozen: this migration never imports application code. Budget reservations of the
// authorize endpoint; amounts in nano-CHF, times in epoch milliseconds.

export async function up(db: Kysely<any>, _engine: EngineName): Promise<void> {
  await db.schema
    .createTable('reservations')
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('api_key_id', 'text')
    .addColumn('amount_nano', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('settled_at', 'bigint')
    .addPrimaryKeyConstraint('reservations_pk', ['organization_id', 'id'])
    .execute();
  await db.schema
    .createIndex('reservations_org_expiry_idx')
    .on('reservations')
    .columns(['organization_id', 'expires_at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('reservations').execute();
}
