import type { Db } from '../../storage/schema.ts';
import type { Storage } from '../../storage/storage.ts';
import { toNullableNumber, toNumber } from '../../storage/values.ts';
import type { AdminKeyRow, AdminKeyState } from './admin-keys.table.ts';

export interface AdminKey {
  id: string;
  name: string;
  keyPrefix: string;
  keyHash: string;
  state: AdminKeyState;
  createdAt: number;
  lastUsedAt: number | null;
  deletedAt: number | null;
}

function toAdminKey(row: AdminKeyRow): AdminKey {
  return {
    id: row.id,
    name: row.name,
    keyPrefix: row.key_prefix,
    keyHash: row.key_hash,
    state: row.state,
    createdAt: toNumber(row.created_at),
    lastUsedAt: toNullableNumber(row.last_used_at),
    deletedAt: toNullableNumber(row.deleted_at),
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
      state: key.state,
      created_at: key.createdAt,
      last_used_at: key.lastUsedAt,
      deleted_at: key.deletedAt,
    })
    .execute();
}

export async function findAdminKey(db: Db, id: string): Promise<AdminKey | undefined> {
  const row = await db.selectFrom('admin_keys').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toAdminKey(row);
}

export async function findAdminKeyByHash(db: Db, keyHash: string): Promise<AdminKey | undefined> {
  const row = await db.selectFrom('admin_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
  return row && toAdminKey(row);
}

/** How many admin keys the database has ever had (deleted ones stay), and how many are active. */
export async function countAdminKeys(db: Db): Promise<{ ever: number; active: number }> {
  const row = await db
    .selectFrom('admin_keys')
    .select((eb) => [eb.fn.countAll().as('ever'), eb.fn.countAll().filterWhere('state', '=', 'active').as('active')])
    .executeTakeFirstOrThrow();
  return { ever: toNumber(row.ever), active: toNumber(row.active) };
}

/** One page of admin keys, newest first; deleted ones only when asked for. */
export async function listAdminKeys(
  db: Db,
  options: { includeDeleted: boolean; limit: number; offset: number },
): Promise<{ keys: AdminKey[]; totalCount: number }> {
  let base = db.selectFrom('admin_keys');
  if (!options.includeDeleted) base = base.where('state', '=', 'active');
  const [rows, count] = await Promise.all([
    base.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(options.limit).offset(options.offset).execute(),
    base.select((eb) => eb.fn.countAll().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { keys: rows.map(toAdminKey), totalCount: toNumber(count.count) };
}

/**
 * The active admin keys, locked until the transaction ends, so that two deletions at once
 * cannot both see another key left and delete the last two.
 */
export async function lockActiveAdminKeys(storage: Pick<Storage, 'forUpdate'>, trx: Db): Promise<AdminKey[]> {
  const active = trx.selectFrom('admin_keys').selectAll().where('state', '=', 'active').orderBy('id');
  // PostgreSQL: row locks, taken in id order so that concurrent deletions cannot deadlock.
  // SQLite: the transaction began with the database's single write lock (BEGIN IMMEDIATE).
  const rows = await storage.forUpdate(active).execute();
  return rows.map(toAdminKey);
}

/** Marks an active key deleted; false when it is unknown or already deleted. */
export async function markAdminKeyDeleted(db: Db, id: string, at: number): Promise<boolean> {
  const result = await db
    .updateTable('admin_keys')
    .set({ state: 'deleted', deleted_at: at })
    .where('id', '=', id)
    .where('state', '=', 'active')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function recordAdminKeyUse(db: Db, id: string, at: number): Promise<void> {
  await db.updateTable('admin_keys').set({ last_used_at: at }).where('id', '=', id).execute();
}
