/** Budget reservations: amounts held by authorize calls until settled by usage or expired. */
import type { Db } from '../../storage/schema.ts';

export interface Reservation {
  organizationId: string;
  id: string;
  apiKeyId: string | null;
  amountNano: bigint;
  createdAt: number;
  expiresAt: number;
}

export async function insertReservation(db: Db, reservation: Reservation): Promise<void> {
  await db
    .insertInto('reservations')
    .values({
      organization_id: reservation.organizationId,
      id: reservation.id,
      api_key_id: reservation.apiKeyId,
      amount_nano: reservation.amountNano,
      created_at: reservation.createdAt,
      expires_at: reservation.expiresAt,
      settled_at: null,
    })
    .execute();
}

/** Deletes the organization's reservations that ended (expired, settled or not) before `before`. */
export async function pruneReservations(db: Db, organizationId: string, before: number): Promise<void> {
  await db
    .deleteFrom('reservations')
    .where('organization_id', '=', organizationId)
    .where('expires_at', '<', BigInt(before))
    .execute();
}
