import type { ColumnType, Selectable } from 'kysely';

type Int64 = ColumnType<bigint, bigint | number, bigint | number>;

/** A deleted key authenticates nothing and cannot come back; its row stays for the record. */
export type AdminKeyState = 'active' | 'deleted';

/** Platform admin keys belong to no organization and may act on all of them. */
export interface AdminKeysTable {
  id: string;
  name: string;
  key_prefix: string;
  key_hash: string;
  created_at: Int64;
  last_used_at: Int64 | null;
  state: ColumnType<AdminKeyState, AdminKeyState | undefined, AdminKeyState>;
  deleted_at: Int64 | null;
}

export type AdminKeyRow = Selectable<AdminKeysTable>;
