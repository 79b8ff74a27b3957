/**
 * Platform admin keys: they belong to no organization and may act on all of them. A deleted
 * key authenticates nothing from the next request of this process on (other processes: within
 * the principal cache's TTL); its row stays, so that the listing shows what was revoked when.
 * The last active key is deleted only when the caller insists (the CLI's --force): without
 * one, only someone with access to the database can create a new admin key.
 */
import { AppError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import type { Db } from '../../storage/schema.ts';
import type { Storage } from '../../storage/storage.ts';
import { generateSecret } from '../api-keys/secrets.ts';
import {
  type AdminKey,
  findAdminKey,
  insertAdminKey,
  listAdminKeys,
  lockActiveAdminKeys,
  markAdminKeyDeleted,
} from './admin-keys.repository.ts';

export async function createAdminKey(
  db: Db,
  name: string,
  now: number,
): Promise<{ adminKey: AdminKey; secret: string }> {
  const { secret, prefix, hash } = generateSecret();
  const adminKey: AdminKey = {
    id: newId('admin'),
    name: name.trim(),
    keyPrefix: prefix,
    keyHash: hash,
    state: 'active',
    createdAt: now,
    lastUsedAt: null,
    deletedAt: null,
  };
  await insertAdminKey(db, adminKey);
  return { adminKey, secret };
}

export async function listAdminKeyPage(
  db: Db,
  options: { page: number; pageSize: number; includeDeleted: boolean },
): Promise<{ keys: AdminKey[]; totalCount: number }> {
  return listAdminKeys(db, {
    includeDeleted: options.includeDeleted,
    limit: options.pageSize,
    offset: (options.page - 1) * options.pageSize,
  });
}

function adminKeyNotFound(id: string, deleted: boolean): AppError {
  return new AppError('API_KEY_NOT_FOUND', {
    systemMessage: `No admin key ${id}${deleted ? ' (it was deleted)' : ''}`,
    details: { api_key_id: id },
  });
}

/** The active admin key, or 404 API_KEY_NOT_FOUND (also once it was deleted). */
export async function requireAdminKey(db: Db, id: string): Promise<AdminKey> {
  const key = await findAdminKey(db, id);
  if (key?.state !== 'active') throw adminKeyNotFound(id, key !== undefined);
  return key;
}

/** Deletes an active admin key; the last one only with `allowLast` (409 CONFLICT otherwise). */
export async function deleteAdminKey(
  storage: Storage,
  id: string,
  now: number,
  options: { allowLast: boolean },
): Promise<{ adminKey: AdminKey; activeLeft: number }> {
  return storage.transaction(async (trx) => {
    const active = await lockActiveAdminKeys(storage, trx);
    const key = active.find((k) => k.id === id);
    if (!key) throw adminKeyNotFound(id, (await findAdminKey(trx, id)) !== undefined);
    if (active.length === 1 && !options.allowLast) {
      throw new AppError('CONFLICT', {
        message: 'The last admin key cannot be deleted',
        systemMessage: `${id} is the last active platform admin key. Create another one first; only \`freddy-analytics keys delete --admin ${id} --force\` deletes the last one`,
        details: { admin_key_id: id, active_admin_keys: 1 },
      });
    }
    await markAdminKeyDeleted(trx, id, now);
    return { adminKey: { ...key, state: 'deleted' as const, deletedAt: now }, activeLeft: active.length - 1 };
  });
}

/** A new key with the old one's name, and the old one deleted, at once: never neither, never both. */
export async function rotateAdminKey(
  storage: Storage,
  id: string,
  now: number,
): Promise<{ adminKey: AdminKey; secret: string; replaced: AdminKey }> {
  return storage.transaction(async (trx) => {
    const old = await findAdminKey(trx, id);
    // The conditional update is what decides: of two rotations at once, one finds the key deleted.
    if (!old || !(await markAdminKeyDeleted(trx, id, now))) throw adminKeyNotFound(id, old !== undefined);
    const { adminKey, secret } = await createAdminKey(trx, old.name, now);
    return { adminKey, secret, replaced: { ...old, state: 'deleted' as const, deletedAt: now } };
  });
}
