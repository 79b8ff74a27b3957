/** Reads of the rollups. Every query is bounded by its organization and never reads raw events. */
import { sql } from 'kysely';
import { isSumOverflow } from '../../storage/failures.ts';
import type { Db } from '../../storage/schema.ts';
import { toBigInt, toNullableNumber } from '../../storage/values.ts';
import type { Counters, CounterRow as CountersRow } from '../../usage/counters.ts';

/** The counters summed; every rollup table has these columns. */
export const COUNTER_SUMS = [
  sql<bigint>`sum(requests)`.as('requests'),
  sql<bigint>`sum(neurons)`.as('neurons'),
  sql<bigint>`sum(synapses)`.as('synapses'),
  sql<bigint>`sum(cost_nano)`.as('cost_nano'),
  sql<bigint>`sum(cached_neurons)`.as('cached_neurons'),
  sql<bigint>`sum(cache_write_neurons)`.as('cache_write_neurons'),
  sql<bigint>`sum(reasoning_synapses)`.as('reasoning_synapses'),
] as const;

export type ModelTotals = Counters & { model: string };

/** A row of summed counters, as either engine returns it. */
export type CounterRow = CountersRow;

export function toCounters(row: CounterRow): Counters {
  return {
    requests: toBigInt(row.requests),
    neurons: toBigInt(row.neurons),
    cachedNeurons: toBigInt(row.cached_neurons),
    cacheWriteNeurons: toBigInt(row.cache_write_neurons),
    synapses: toBigInt(row.synapses),
    reasoningSynapses: toBigInt(row.reasoning_synapses),
    costNano: toBigInt(row.cost_nano),
  };
}

/** What the usage summary reads: each model's all-time totals, the current month's usage, the first day used. */
export interface UsageOverview {
  models: ModelTotals[];
  currentMonth: Pick<Counters, 'requests' | 'costNano'>;
  /** yyyymmdd, or null before any usage. */
  firstDay: number | null;
}

/**
 * The usage summary's rollup reads in one statement: on PostgreSQL one round trip on one pool
 * connection instead of three. The month's usage is summed per model in the same pass over the
 * organization's model-month rows; the first day is an uncorrelated subquery, evaluated once.
 */
export async function usageOverview(db: Db, organizationId: string, month: number): Promise<UsageOverview> {
  let rows: OverviewRow[];
  try {
    rows = await overviewRows(db, organizationId, month, false);
  } catch (error) {
    // All-time totals can pass 2^63, where SQLite's sum() fails (one month cannot: month-limits.ts).
    if (!isSumOverflow(error)) throw error;
    rows = await overviewRows(db, organizationId, month, true);
  }
  let requests = 0n;
  let costNano = 0n;
  for (const row of rows) {
    requests += row.monthRequests;
    costNano += row.monthCostNano;
  }
  return {
    models: rows.map((row) => row.totals),
    currentMonth: { requests, costNano },
    // Every event adds to both rollups, so there is a first day exactly when there are rows.
    firstDay: rows[0]?.firstDay ?? null,
  };
}

interface OverviewRow {
  totals: ModelTotals;
  monthRequests: bigint;
  monthCostNano: bigint;
  firstDay: number | null;
}

const HALF = 4_294_967_296n;

/**
 * Each model's all-time totals, its usage in `month`, and the first day used. `split` sums the
 * high and the low 32 bits of each value apart, sums no number of 64-bit values can overflow.
 */
async function overviewRows(db: Db, organizationId: string, month: number, split: boolean): Promise<OverviewRow[]> {
  type Wide = 'neurons' | 'synapses' | 'cost_nano' | 'cached_neurons' | 'cache_write_neurons' | 'reasoning_synapses';
  const wide = (column: Wide) =>
    split
      ? [
          sql<bigint>`sum(${sql.ref(column)} >> 32)`.as(`${column}_high`),
          sql<bigint>`sum(${sql.ref(column)} & 4294967295)`.as(column),
        ]
      : [sql<bigint>`sum(${sql.ref(column)})`.as(column)];
  const rows = await db
    .selectFrom('rollup_org_model_month')
    .select((eb) => [
      'model',
      sql<bigint>`sum(requests)`.as('requests'),
      ...wide('neurons'),
      ...wide('synapses'),
      ...wide('cost_nano'),
      ...wide('cached_neurons'),
      ...wide('cache_write_neurons'),
      ...wide('reasoning_synapses'),
      sql<bigint>`sum(case when month = ${month} then requests else 0 end)`.as('month_requests'),
      sql<bigint>`sum(case when month = ${month} then cost_nano else 0 end)`.as('month_cost_nano'),
      eb
        .selectFrom('rollup_key_day')
        .select((inner) => inner.fn.min('rollup_key_day.day').as('day'))
        .where('rollup_key_day.organization_id', '=', organizationId)
        .as('first_day'),
    ])
    .where('organization_id', '=', organizationId)
    .groupBy('model')
    .execute();
  return rows.map((row) => {
    const halves = row as unknown as Record<string, unknown>;
    const whole = (column: Wide) => (split ? toBigInt(halves[`${column}_high`]) * HALF : 0n) + toBigInt(halves[column]);
    return {
      totals: {
        model: row.model,
        requests: toBigInt(row.requests),
        neurons: whole('neurons'),
        cachedNeurons: whole('cached_neurons'),
        cacheWriteNeurons: whole('cache_write_neurons'),
        synapses: whole('synapses'),
        reasoningSynapses: whole('reasoning_synapses'),
        costNano: whole('cost_nano'),
      },
      monthRequests: toBigInt(row.month_requests),
      monthCostNano: toBigInt(row.month_cost_nano),
      firstDay: toNullableNumber(row.first_day),
    };
  });
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
