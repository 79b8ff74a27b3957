/** Turns a presented secret into a Principal, or the 401 that says why it cannot be one. */
import { AppError } from '../../errors.ts';
import type { Db } from '../../storage/schema.ts';
import { findAdminKeyByHash } from '../admin-keys/admin-keys.repository.ts';
import { findApiKeyByHash } from '../api-keys/api-keys.repository.ts';
import { hashesEqual, hashSecret } from '../api-keys/secrets.ts';
import type { Principal } from './principal.ts';
import type { PrincipalCache } from './principal-cache.ts';

export async function authenticate(
  db: Db,
  secret: string | undefined,
  now: number,
  cache?: PrincipalCache,
): Promise<Principal> {
  if (!secret) throw new AppError('AUTHENTICATION_REQUIRED');
  const hash = hashSecret(secret);
  const cached = cache?.get(hash, now);
  if (cached) return cached;
  const mark = cache?.mark();
  const key = await findApiKeyByHash(db, hash);
  if (key && hashesEqual(key.keyHash, hash)) {
    if (key.state === 'deleted') throw new AppError('INVALID_API_KEY', { systemMessage: 'API key was deleted' });
    if (key.state === 'deactivated') throw new AppError('API_KEY_DEACTIVATED');
    if (key.expiresAt !== null && key.expiresAt <= now) throw new AppError('API_KEY_EXPIRED');
    const principal: Principal = {
      kind: 'api_key',
      organizationId: key.organizationId,
      apiKeyId: key.id,
      scopes: key.scopes,
    };
    cache?.set(hash, principal, now, key.expiresAt, mark);
    return principal;
  }
  const admin = await findAdminKeyByHash(db, hash);
  if (admin && hashesEqual(admin.keyHash, hash)) {
    if (admin.state === 'deleted') throw new AppError('INVALID_API_KEY', { systemMessage: 'API key was deleted' });
    const principal: Principal = { kind: 'admin', keyId: admin.id };
    cache?.set(hash, principal, now, null, mark);
    return principal;
  }
  throw new AppError('INVALID_API_KEY');
}
