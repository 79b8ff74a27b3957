import type { ColumnType, Selectable } from 'kysely';

type Int64 = ColumnType<bigint, bigint | number, bigint | number>;

export interface OrganizationsTable {
  id: string;
  name: string;
  /** Epoch milliseconds. */
  created_at: Int64;
  /** Monthly limit on all usage of the organization, nano-CHF; null = none. */
  monthly_limit_nano: Int64 | null;
  /** Monthly limit on all API-key usage together, nano-CHF; null = none. */
  api_keys_limit_nano: Int64 | null;
}

export type OrganizationRow = Selectable<OrganizationsTable>;
