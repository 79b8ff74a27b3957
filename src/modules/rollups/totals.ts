/** An organization's month as its total rollup holds it (rollup_org_month). */
import type { Db } from '../../storage/schema.ts';
import { type Counters, emptyCounters } from '../../usage/counters.ts';
import { COUNTER_COLUMN_LIST } from '../../usage/rollups.ts';
import { countersOfRow } from './rebuild.ts';

/** An organization's totals of one month (yyyymm), zeros when it has no usage then. */
export async function monthTotals(db: Db, organizationId: string, month: number): Promise<Counters> {
  const row = await db
    .selectFrom('rollup_org_month')
    .select(COUNTER_COLUMN_LIST)
    .where('organization_id', '=', organizationId)
    .where('month', '=', month)
    .executeTakeFirst();
  if (!row) return emptyCounters();
  return countersOfRow(row);
}
