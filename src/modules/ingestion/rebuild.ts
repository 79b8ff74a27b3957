/**
 * Rollups recomputed from raw events, one UTC month at a time, with SQL GROUP BY. Repricing
 * rebuilds the months it changed with this, and `verify` compares the stored rollups with it.
 */
import { type Kysely, sql } from 'kysely';
import { toBigInt, toNumber } from '../../storage/dialect.ts';
import type { Db } from '../../storage/schema.ts';
import { addMonths, DAY_MS, monthKey, type YearMonth } from '../../time/calendar.ts';
import {
  type Counters,
  type KeyDay,
  type KeyModelMonth,
  type OrgModelMonth,
  organizationMonths,
  type RollupIncrements,
} from './rollups.ts';
import { applyRollupIncrements } from './usage.repository.ts';
import { NO_API_KEY } from './usage.table.ts';

export const ROLLUP_TABLES = [
  'rollup_org_month',
  'rollup_org_model_month',
  'rollup_key_model_month',
  'rollup_key_day',
] as const;

const NO_ROWS = (): RollupIncrements => ({ orgMonth: [], orgModelMonth: [], keyModelMonth: [], keyDay: [] });

/** A month's epoch-ms bounds [start, end). */
export function monthBounds(month: YearMonth): [number, number] {
  const next = addMonths(month, 1);
  return [Date.UTC(month.year, month.month - 1, 1), Date.UTC(next.year, next.month - 1, 1)];
}

function counters(row: { requests: unknown; neurons: unknown; synapses: unknown; cost_nano: unknown }): Counters {
  return {
    requests: toBigInt(row.requests),
    neurons: toBigInt(row.neurons),
    synapses: toBigInt(row.synapses),
    costNano: toBigInt(row.cost_nano),
  };
}

const SUMS = [
  sql<bigint>`count(*)`.as('requests'),
  sql<bigint>`sum(neurons)`.as('neurons'),
  sql<bigint>`sum(synapses)`.as('synapses'),
  sql<bigint>`sum(cost_nano)`.as('cost_nano'),
] as const;

/**
 * The rollups of one month as the raw events say they should be, for the given organizations
 * (all when `organizationIds` is undefined).
 */
export async function recomputeMonth(
  db: Db,
  month: YearMonth,
  organizationIds?: readonly string[],
): Promise<RollupIncrements> {
  if (organizationIds?.length === 0) return NO_ROWS();
  const [start, end] = monthBounds(month);
  const key = monthKey(month);
  let events = db
    .selectFrom('usage_events')
    .where('occurred_at', '>=', BigInt(start))
    .where('occurred_at', '<', BigInt(end));
  if (organizationIds) events = events.where('organization_id', 'in', organizationIds);
  // Days of one month are whole 86 400 000 ms steps from its start (epoch time has no leap
  // seconds), so the day key is integer arithmetic that both engines do alike. Literals, not
  // parameters, so that PostgreSQL sees the same expression in SELECT and GROUP BY.
  const day = sql<number>`(occurred_at - ${sql.lit(start)}) / ${sql.lit(DAY_MS)} + ${sql.lit(key * 100 + 1)}`;
  const apiKey = sql<string>`coalesce(api_key_id, ${sql.lit(NO_API_KEY)})`;

  const [byModel, byKeyModel, byKeyDay] = await Promise.all([
    events
      .select(['organization_id', 'model', ...SUMS])
      .groupBy(['organization_id', 'model'])
      .execute(),
    events
      .select(['organization_id', 'api_key_id', 'model', ...SUMS])
      .where('api_key_id', 'is not', null)
      .groupBy(['organization_id', 'api_key_id', 'model'])
      .execute(),
    events
      .select(['organization_id', day.as('day'), apiKey.as('key_or_web'), ...SUMS])
      .groupBy(['organization_id', day, apiKey])
      .execute(),
  ]);
  const orgModelMonth: OrgModelMonth[] = byModel
    .map((r) => ({ organizationId: r.organization_id, month: key, model: r.model, ...counters(r) }))
    .sort((a, b) => compareText(a.organizationId, b.organizationId));
  const keyModelMonth: KeyModelMonth[] = byKeyModel.map((r) => ({
    organizationId: r.organization_id,
    month: key,
    apiKeyId: r.api_key_id ?? NO_API_KEY,
    model: r.model,
    ...counters(r),
  }));
  const keyDay: KeyDay[] = byKeyDay.map((r) => ({
    organizationId: r.organization_id,
    day: toNumber(r.day),
    apiKeyId: r.key_or_web,
    ...counters(r),
  }));
  // Each organization's month from its model rows, as ingestion sums it.
  return { orgMonth: organizationMonths(orgModelMonth), orgModelMonth, keyModelMonth, keyDay };
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The rollups of one month as stored. */
export async function storedMonth(
  db: Db,
  month: YearMonth,
  organizationIds?: readonly string[],
): Promise<RollupIncrements> {
  if (organizationIds?.length === 0) return NO_ROWS();
  const key = monthKey(month);
  let org = db.selectFrom('rollup_org_month').selectAll().where('month', '=', key);
  let orgModel = db.selectFrom('rollup_org_model_month').selectAll().where('month', '=', key);
  let keyModel = db.selectFrom('rollup_key_model_month').selectAll().where('month', '=', key);
  let keyDay = db
    .selectFrom('rollup_key_day')
    .selectAll()
    .where('day', '>=', key * 100)
    .where('day', '<', key * 100 + 100);
  if (organizationIds) {
    org = org.where('organization_id', 'in', organizationIds);
    orgModel = orgModel.where('organization_id', 'in', organizationIds);
    keyModel = keyModel.where('organization_id', 'in', organizationIds);
    keyDay = keyDay.where('organization_id', 'in', organizationIds);
  }
  const [o, a, b, c] = await Promise.all([org.execute(), orgModel.execute(), keyModel.execute(), keyDay.execute()]);
  return {
    orgMonth: o.map((r) => ({ organizationId: r.organization_id, month: key, ...counters(r) })),
    orgModelMonth: a.map((r) => ({ organizationId: r.organization_id, month: key, model: r.model, ...counters(r) })),
    keyModelMonth: b.map((r) => ({
      organizationId: r.organization_id,
      month: key,
      apiKeyId: r.api_key_id,
      model: r.model,
      ...counters(r),
    })),
    keyDay: c.map((r) => ({
      organizationId: r.organization_id,
      day: toNumber(r.day),
      apiKeyId: r.api_key_id,
      ...counters(r),
    })),
  };
}

const INSERT_CHUNK = 1000;

/**
 * Replaces the month's rollup rows of these organizations with the ones recomputed from their
 * events. Run it inside the transaction that changed the events.
 */
export async function rebuildMonth(db: Db, month: YearMonth, organizationIds: readonly string[]): Promise<void> {
  if (organizationIds.length === 0) return;
  const rebuilt = await recomputeMonth(db, month, organizationIds);
  const key = monthKey(month);
  // The tables share their counters; Kysely cannot type a table chosen at run time.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  const untyped = db as unknown as Kysely<any>;
  for (const table of ROLLUP_TABLES) {
    let query = untyped.deleteFrom(table).where('organization_id', 'in', organizationIds);
    query =
      table === 'rollup_key_day'
        ? query.where('day', '>=', key * 100).where('day', '<', key * 100 + 100)
        : query.where('month', '=', key);
    await query.execute();
  }
  const longest = Math.max(...Object.values(rebuilt).map((rows) => rows.length));
  for (let i = 0; i < longest; i += INSERT_CHUNK) {
    await applyRollupIncrements(db, {
      orgMonth: rebuilt.orgMonth.slice(i, i + INSERT_CHUNK),
      orgModelMonth: rebuilt.orgModelMonth.slice(i, i + INSERT_CHUNK),
      keyModelMonth: rebuilt.keyModelMonth.slice(i, i + INSERT_CHUNK),
      keyDay: rebuilt.keyDay.slice(i, i + INSERT_CHUNK),
    });
  }
}
