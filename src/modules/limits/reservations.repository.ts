/** Budget reservations: amounts held by authorize calls until settled by usage or expired. */
import type { DialectName } from '../../storage/dialect.ts';
import type { Db } from '../../storage/schema.ts';

export interface Reservation {
  organizationId: string;
  id: string;
  apiKeyId: string | null;
  amountNano: bigint;
  createdAt: number;
  expiresAt: number;
}

/**
 * Inserts the reservation and deletes the organization's reservations that ended (expired,
 * settled or not) before `pruneBefore`. On PostgreSQL both are one statement, which spares the
 * budget check a round trip; SQLite, in process, runs them one after the other.
 */
export async function insertReservation(
  db: Db,
  dialect: DialectName,
  reservation: Reservation,
  pruneBefore: number,
): Promise<void> {
  const prune = db
    .deleteFrom('reservations')
    .where('organization_id', '=', reservation.organizationId)
    .where('expires_at', '<', BigInt(pruneBefore));
  const row = {
    organization_id: reservation.organizationId,
    id: reservation.id,
    api_key_id: reservation.apiKeyId,
    amount_nano: reservation.amountNano,
    created_at: reservation.createdAt,
    expires_at: reservation.expiresAt,
    settled_at: null,
  };
  if (dialect === 'postgres') {
    await db
      .with('pruned', () => prune)
      .insertInto('reservations')
      .values(row)
      .execute();
    return;
  }
  await prune.execute();
  await db.insertInto('reservations').values(row).execute();
}
