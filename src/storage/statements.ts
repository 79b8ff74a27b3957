/** Statements both engines build alike; each engine composes them its own way (sqlite/, postgres/). */
import type { Db } from './schema.ts';
import type { NewReservation } from './storage.ts';

/** The organization's reservations that ended (expired, settled or not) before `before`. */
export function pruneEndedReservations(db: Db, organizationId: string, before: number) {
  return db
    .deleteFrom('reservations')
    .where('organization_id', '=', organizationId)
    .where('expires_at', '<', BigInt(before));
}

export function reservationRow(reservation: NewReservation) {
  return {
    organization_id: reservation.organizationId,
    id: reservation.id,
    api_key_id: reservation.apiKeyId,
    amount_nano: reservation.amountNano,
    created_at: reservation.createdAt,
    expires_at: reservation.expiresAt,
    settled_at: null,
  };
}
