/**
 * `last_used_at` of keys, written at most once a minute per key by this process, so that
 * reading analytics does not turn every request into a database write.
 */
import type { Db } from '../../storage/schema.ts';
import { recordAdminKeyUse } from '../admin-keys/admin-keys.repository.ts';
import { recordApiKeyUse } from '../api-keys/api-keys.repository.ts';
import type { Principal } from './principal.ts';

export const LAST_USED_INTERVAL_MS = 60_000;

export interface LastUsedRecorder {
  /** Records a use of the principal's key unless this process did so in the last minute. */
  record(db: Db, principal: Principal, now: number): Promise<void>;
}

export function lastUsedRecorder(intervalMs = LAST_USED_INTERVAL_MS): LastUsedRecorder {
  const lastWritten = new Map<string, number>();
  return {
    async record(db, principal, now) {
      const id = principal.kind === 'admin' ? principal.keyId : principal.apiKeyId;
      const previous = lastWritten.get(id);
      if (previous !== undefined && now - previous < intervalMs && now >= previous) return;
      lastWritten.set(id, now);
      if (principal.kind === 'admin') await recordAdminKeyUse(db, id, now);
      else await recordApiKeyUse(db, id, now);
    },
  };
}
