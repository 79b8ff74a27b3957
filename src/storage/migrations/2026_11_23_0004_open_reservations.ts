import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { EngineName } from '../storage.ts';

// Frozen: this migration never imports application code. The budget check sums the open
// (unsettled, unexpired) reservations of an organization. Through reservations_org_expiry_idx
// it also visited every settled one still within its expiry, so that each check took longer
// the more requests the organization had made in the last TTL. Only open reservations are in
// this index, with the columns the sums read, so that the check reads no table rows for them.

export async function up(db: Kysely<any>, _engine: EngineName): Promise<void> {
  await db.schema
    .createIndex('reservations_open_idx')
    .on('reservations')
    .columns(['organization_id', 'expires_at', 'api_key_id', 'amount_nano'])
    .where(sql.ref('settled_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('reservations_open_idx').execute();
}
