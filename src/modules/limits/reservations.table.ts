import type { ColumnType, Selectable } from 'kysely';

type Int64 = ColumnType<bigint, bigint | number, bigint | number>;

/** Budget held by an authorize call until its usage is reported or the hold expires. */
export interface ReservationsTable {
  organization_id: string;
  id: string;
  /** The key the reservation was made for; null for usage without a key. */
  api_key_id: string | null;
  amount_nano: Int64;
  created_at: Int64;
  expires_at: Int64;
  /** When a usage event carrying this reservation was ingested; null while open. */
  settled_at: Int64 | null;
}

export type ReservationRow = Selectable<ReservationsTable>;
