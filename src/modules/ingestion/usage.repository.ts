import type { Kysely } from 'kysely';
import { toBigInt, toNumber } from '../../storage/dialect.ts';
import type { Db } from '../../storage/schema.ts';
import type { Counters, RollupIncrements } from './rollups.ts';

/** Adds the increments to the rollups, one multi-row upsert each; the organization months last, as ingestion does. */
export async function applyRollupIncrements(db: Db, increments: RollupIncrements): Promise<void> {
  await upsertCounters(
    db,
    'rollup_org_model_month',
    ['organization_id', 'month', 'model'],
    increments.orgModelMonth,
    (r) => ({
      organization_id: r.organizationId,
      month: r.month,
      model: r.model,
    }),
  );
  await upsertCounters(
    db,
    'rollup_key_model_month',
    ['organization_id', 'month', 'api_key_id', 'model'],
    increments.keyModelMonth,
    (r) => ({ organization_id: r.organizationId, month: r.month, api_key_id: r.apiKeyId, model: r.model }),
  );
  await upsertCounters(db, 'rollup_key_day', ['organization_id', 'day', 'api_key_id'], increments.keyDay, (r) => ({
    organization_id: r.organizationId,
    day: r.day,
    api_key_id: r.apiKeyId,
  }));
  await upsertCounters(db, 'rollup_org_month', ['organization_id', 'month'], increments.orgMonth, (r) => ({
    organization_id: r.organizationId,
    month: r.month,
  }));
}

async function upsertCounters<T extends Counters>(
  db: Db,
  table: 'rollup_org_month' | 'rollup_org_model_month' | 'rollup_key_model_month' | 'rollup_key_day',
  keyColumns: string[],
  rows: readonly T[],
  keyOf: (row: T) => Record<string, string | number>,
): Promise<void> {
  if (rows.length === 0) return;
  // The rollups share their counter columns; Kysely cannot type a table chosen at run time.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  const untyped = db as unknown as Kysely<any>;
  await untyped
    .insertInto(table)
    .values(
      rows.map((r) => ({
        ...keyOf(r),
        requests: r.requests,
        neurons: r.neurons,
        synapses: r.synapses,
        cost_nano: r.costNano,
      })),
    )
    .onConflict((oc) =>
      oc.columns(keyColumns).doUpdateSet((eb) => ({
        requests: eb(`${table}.requests`, '+', eb.ref('excluded.requests')),
        neurons: eb(`${table}.neurons`, '+', eb.ref('excluded.neurons')),
        synapses: eb(`${table}.synapses`, '+', eb.ref('excluded.synapses')),
        cost_nano: eb(`${table}.cost_nano`, '+', eb.ref('excluded.cost_nano')),
      })),
    )
    .execute();
}

/** An organization's totals of one month (yyyymm), zeros when it has no usage then. */
export async function monthTotals(db: Db, organizationId: string, month: number): Promise<Counters> {
  const row = await db
    .selectFrom('rollup_org_month')
    .select(['requests', 'neurons', 'synapses', 'cost_nano'])
    .where('organization_id', '=', organizationId)
    .where('month', '=', month)
    .executeTakeFirst();
  if (!row) return { requests: 0n, neurons: 0n, synapses: 0n, costNano: 0n };
  return {
    requests: toBigInt(row.requests),
    neurons: toBigInt(row.neurons),
    synapses: toBigInt(row.synapses),
    costNano: toBigInt(row.cost_nano),
  };
}

export async function countEvents(db: Db, organizationId: string): Promise<number> {
  const row = await db
    .selectFrom('usage_events')
    .select((eb) => eb.fn.countAll().as('count'))
    .where('organization_id', '=', organizationId)
    .executeTakeFirstOrThrow();
  return toNumber(row.count);
}
