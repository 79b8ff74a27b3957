import type { Db } from '../../storage/schema.ts';
import { toNumber } from '../../storage/values.ts';

/** The time (epoch ms) before which retention removed the raw events; 0 when it never did. */
export async function eventsRemovedBefore(db: Db): Promise<number> {
  const row = await db
    .selectFrom('raw_event_retention')
    .select('removed_before')
    .where('id', '=', 1)
    .executeTakeFirst();
  return row ? toNumber(row.removed_before) : 0;
}
