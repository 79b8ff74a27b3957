/** Reads of the rollups. Every query is bounded by its organization and never reads raw events. */
import { sql } from 'kysely';
import { toBigInt, toNumber } from '../../storage/dialect.ts';
import type { Db } from '../../storage/schema.ts';
import type { Counters } from '../ingestion/rollups.ts';

/** The four counters summed; every rollup table has these columns. */
export const COUNTER_SUMS = [
  sql<bigint>`sum(requests)`.as('requests'),
  sql<bigint>`sum(neurons)`.as('neurons'),
  sql<bigint>`sum(synapses)`.as('synapses'),
  sql<bigint>`sum(cost_nano)`.as('cost_nano'),
] as const;

export type ModelTotals = Counters & { model: string };

/** A row of summed counters, as either engine returns it. */
export type CounterRow = { requests: unknown; neurons: unknown; synapses: unknown; cost_nano: unknown };

export function toCounters(row: CounterRow): Counters {
  return {
    requests: toBigInt(row.requests),
    neurons: toBigInt(row.neurons),
    synapses: toBigInt(row.synapses),
    costNano: toBigInt(row.cost_nano),
  };
}

/** All-time totals of each model the organization used. */
export async function totalsByModel(db: Db, organizationId: string): Promise<ModelTotals[]> {
  const rows = await db
    .selectFrom('rollup_org_model_month')
    .select(['model', ...COUNTER_SUMS])
    .where('organization_id', '=', organizationId)
    .groupBy('model')
    .execute();
  return rows.map((row) => ({ model: row.model, ...toCounters(row) }));
}

/** All usage of one month (with or without key). */
export async function monthTotals(db: Db, organizationId: string, month: number): Promise<Counters> {
  const row = await db
    .selectFrom('rollup_org_model_month')
    .select(COUNTER_SUMS)
    .where('organization_id', '=', organizationId)
    .where('month', '=', month)
    .executeTakeFirstOrThrow();
  return toCounters(row);
}

/** Programmatic usage of one month: all keys, or one key. */
export async function apiKeyMonthTotals(
  db: Db,
  organizationId: string,
  month: number,
  apiKeyId?: string,
): Promise<Counters> {
  let query = db
    .selectFrom('rollup_key_model_month')
    .select(COUNTER_SUMS)
    .where('organization_id', '=', organizationId)
    .where('month', '=', month);
  if (apiKeyId !== undefined) query = query.where('api_key_id', '=', apiKeyId);
  return toCounters(await query.executeTakeFirstOrThrow());
}

/** The first day (yyyymmdd) with any usage, or null. */
export async function firstUsageDay(db: Db, organizationId: string): Promise<number | null> {
  const row = await db
    .selectFrom('rollup_key_day')
    .select((eb) => eb.fn.min('day').as('day'))
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  return row?.day === null || row?.day === undefined ? null : toNumber(row.day);
}
