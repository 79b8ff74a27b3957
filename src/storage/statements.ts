/** Statements both engines build alike; each engine composes them its own way (sqlite/, postgres/). */
import { sql } from 'kysely';
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

/**
 * Records that raw events before `horizon` are being removed; the recorded time is never
 * lowered, so a smaller horizon later (a longer retention) leaves it as it was.
 */
export function raiseRemovedBefore(db: Db, horizon: number) {
  return db
    .insertInto('raw_event_retention')
    .values({ id: 1, removed_before: horizon })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({
        removed_before: sql<bigint>`case when excluded.removed_before > raw_event_retention.removed_before
          then excluded.removed_before else raw_event_retention.removed_before end`,
      }),
    );
}
