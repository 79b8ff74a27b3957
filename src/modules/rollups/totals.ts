/** An organization's month as its total rollup holds it (rollup_org_month). */
import type { Db } from '../../storage/schema.ts';
import { toBigInt } from '../../storage/values.ts';
import { type Counters, emptyCounters } from '../../usage/counters.ts';

/** An organization's totals of one month (yyyymm), zeros when it has no usage then. */
export async function monthTotals(db: Db, organizationId: string, month: number): Promise<Counters> {
  const row = await db
    .selectFrom('rollup_org_month')
    .select(['requests', 'neurons', 'synapses', 'cost_nano'])
    .where('organization_id', '=', organizationId)
    .where('month', '=', month)
    .executeTakeFirst();
  if (!row) return emptyCounters();
  return {
    requests: toBigInt(row.requests),
    neurons: toBigInt(row.neurons),
    synapses: toBigInt(row.synapses),
    costNano: toBigInt(row.cost_nano),
  };
}
