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

/**
 * Marks reservations as settled by ingested usage: from now on the event's actual cost
 * counts instead of the estimate. Unknown, expired or already settled ids are left alone,
 * so that a retried batch settles nothing twice.
 */
export async function settleReservations(db: Db, ids: ReadonlyArray<[string, string]>, now: number): Promise<void> {
  const byOrg = new Map<string, string[]>();
  for (const [organizationId, id] of ids) byOrg.set(organizationId, [...(byOrg.get(organizationId) ?? []), id]);
  for (const [organizationId, reservationIds] of [...byOrg].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    await db
      .updateTable('reservations')
      .set({ settled_at: now })
      .where('organization_id', '=', organizationId)
      .where('id', 'in', reservationIds.sort())
      .where('settled_at', 'is', null)
      .execute();
  }
}

/** Deletes the organization's reservations that ended (expired, settled or not) before `before`. */
export async function pruneReservations(db: Db, organizationId: string, before: number): Promise<void> {
  await db
    .deleteFrom('reservations')
    .where('organization_id', '=', organizationId)
    .where('expires_at', '<', BigInt(before))
    .execute();
}
