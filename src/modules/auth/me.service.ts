/** What a caller may learn about its own key: who it is and what it may do. */
import { AppError } from '../../errors.ts';
import type { Db } from '../../storage/schema.ts';
import { findAdminKey } from '../admin-keys/admin-keys.repository.ts';
import { findApiKey } from '../api-keys/api-keys.repository.ts';
import type { Scope } from '../api-keys/scopes.ts';
import type { Principal } from './principal.ts';

export type Caller =
  | { kind: 'api_key'; organizationId: string; apiKeyId: string; name: string; scopes: Scope[] }
  | { kind: 'admin'; adminKeyId: string; name: string };

export async function describeCaller(db: Db, principal: Principal): Promise<Caller> {
  if (principal.kind === 'admin') {
    const key = await findAdminKey(db, principal.keyId);
    // Deleted between authentication and this read: answered as authentication would now.
    if (key?.state !== 'active') throw new AppError('INVALID_API_KEY', { systemMessage: 'API key was deleted' });
    return { kind: 'admin', adminKeyId: key.id, name: key.name };
  }
  const key = await findApiKey(db, principal.organizationId, principal.apiKeyId);
  if (!key || key.state === 'deleted') throw new AppError('INVALID_API_KEY', { systemMessage: 'API key was deleted' });
  return {
    kind: 'api_key',
    organizationId: key.organizationId,
    apiKeyId: key.id,
    name: key.name,
    scopes: key.scopes,
  };
}
