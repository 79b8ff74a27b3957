import type { ColumnType, Selectable } from 'kysely';

type Int64 = ColumnType<bigint, bigint | number, bigint | number>;

/** A paused key is held for a while (401 API_KEY_PAUSED) and activated again like a deactivated one. */
export type ApiKeyState = 'active' | 'paused' | 'deactivated' | 'deleted';

export interface ApiKeysTable {
  organization_id: string;
  id: string;
  name: string;
  /** The public start of the secret, shown in listings so a leaked secret can be recognized. */
  key_prefix: string;
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  key_hash: string;
  /** Space-separated scopes. */
  scopes: string;
  monthly_limit_nano: Int64 | null;
  state: ApiKeyState;
  expires_at: Int64 | null;
  created_at: Int64;
  last_used_at: Int64 | null;
  /** When the key was deleted; null while it is not. A deleted key is never undeleted. */
  deleted_at: Int64 | null;
}

export type ApiKeyRow = Selectable<ApiKeysTable>;
