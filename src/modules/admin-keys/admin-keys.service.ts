/** Platform admin keys: they belong to no organization and may act on all of them. */
import { newId } from '../../ids.ts';
import type { Db } from '../../storage/schema.ts';
import { generateSecret } from '../api-keys/secrets.ts';
import { type AdminKey, insertAdminKey } from './admin-keys.repository.ts';

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
    createdAt: now,
  };
  await insertAdminKey(db, adminKey);
  return { adminKey, secret };
}
