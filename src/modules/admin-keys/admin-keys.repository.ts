import { toNumber } from '../../storage/dialect.ts';
import type { Db } from '../../storage/schema.ts';
import type { AdminKeyRow } from './admin-keys.table.ts';

export interface AdminKey {
  id: string;
  name: string;
  keyPrefix: string;
  keyHash: string;
  createdAt: number;
}

function toAdminKey(row: AdminKeyRow): AdminKey {
  return {
    id: row.id,
    name: row.name,
    keyPrefix: row.key_prefix,
    keyHash: row.key_hash,
    createdAt: toNumber(row.created_at),
  };
}

export async function insertAdminKey(db: Db, key: AdminKey): Promise<void> {
  await db
    .insertInto('admin_keys')
    .values({
      id: key.id,
      name: key.name,
      key_prefix: key.keyPrefix,
      key_hash: key.keyHash,
      created_at: key.createdAt,
      last_used_at: null,
    })
    .execute();
}

export async function findAdminKeyByHash(db: Db, keyHash: string): Promise<AdminKey | undefined> {
  const row = await db.selectFrom('admin_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
  return row && toAdminKey(row);
}

export async function countAdminKeys(db: Db): Promise<number> {
  const row = await db
    .selectFrom('admin_keys')
    .select((eb) => eb.fn.countAll().as('count'))
    .executeTakeFirstOrThrow();
  return toNumber(row.count);
}

export async function recordAdminKeyUse(db: Db, id: string, at: number): Promise<void> {
  await db.updateTable('admin_keys').set({ last_used_at: at }).where('id', '=', id).execute();
}
