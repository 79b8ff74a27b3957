/** Reads and writes of spend limits, and this month's spend from the rollups. */
import { sql } from 'kysely';
import type { Db } from '../../storage/schema.ts';
import { toBigInt, toNullableBigInt, toNullableNumber } from '../../storage/values.ts';
import type { ApiKeyState } from '../api-keys/api-keys.table.ts';

export interface MonthSpend {
  /** All usage of the organization, with or without a key. */
  organizationNano: bigint;
  /** Usage made with any API key. */
  apiKeysNano: bigint;
  byKey: Map<string, bigint>;
}

export async function monthSpend(db: Db, organizationId: string, month: number): Promise<MonthSpend> {
  const [org, keys] = await Promise.all([
    db
      .selectFrom('rollup_org_model_month')
      .select(sql<bigint>`sum(cost_nano)`.as('cost_nano'))
      .where('organization_id', '=', organizationId)
      .where('month', '=', month)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('rollup_key_model_month')
      .select(['api_key_id', sql<bigint>`sum(cost_nano)`.as('cost_nano')])
      .where('organization_id', '=', organizationId)
      .where('month', '=', month)
      .groupBy('api_key_id')
      .execute(),
  ]);
  const byKey = new Map(keys.map((row) => [row.api_key_id, toBigInt(row.cost_nano)]));
  let apiKeysNano = 0n;
  for (const cost of byKey.values()) apiKeysNano += cost;
  return { organizationNano: toBigInt(org.cost_nano), apiKeysNano, byKey };
}

export async function setOrganizationLimits(
  db: Db,
  organizationId: string,
  limits: { monthlyNano?: bigint | null | undefined; apiKeysNano?: bigint | null | undefined },
): Promise<void> {
  const values = {
    ...(limits.monthlyNano !== undefined ? { monthly_limit_nano: limits.monthlyNano } : {}),
    ...(limits.apiKeysNano !== undefined ? { api_keys_limit_nano: limits.apiKeysNano } : {}),
  };
  if (Object.keys(values).length === 0) return;
  await db.updateTable('organizations').set(values).where('id', '=', organizationId).execute();
}

export interface BudgetUsage {
  /** The key asked about, if it exists (deleted or not), with its state and its own limit. */
  key: { monthlyLimitNano: bigint | null; state: ApiKeyState; expiresAt: number | null } | undefined;
  organizationSpentNano: bigint;
  organizationReservedNano: bigint;
  apiKeysSpentNano: bigint;
  apiKeysReservedNano: bigint;
  keySpentNano: bigint;
  keyReservedNano: bigint;
}

/**
 * Spend of the month and open reservations at each tier, in one statement so that all six
 * sums come from one snapshot: an ingestion that settles a reservation and adds its cost is
 * seen either entirely or not at all. Each table is read once, its tiers summed in the same
 * pass: open reservations add up while a gateway's requests are in flight, and reading them
 * once per tier made the check slower the busier the organization. Only open reservations are
 * read, through reservations_open_idx: settled ones are kept an hour past their expiry and would
 * otherwise be visited too. The key's own limit comes with them, which spares the budget check
 * a round trip of its own.
 */
export async function budgetUsage(
  db: Db,
  organizationId: string,
  month: number,
  apiKeyId: string | null,
  now: number,
): Promise<BudgetUsage> {
  const row = await budgetUsageQuery(db, organizationId, month, apiKeyId, now).executeTakeFirstOrThrow();
  return {
    key:
      toBigInt(row.key_found) > 0n
        ? {
            monthlyLimitNano: toNullableBigInt(row.key_limit),
            state: row.key_state as ApiKeyState,
            expiresAt: toNullableNumber(row.key_expires_at),
          }
        : undefined,
    organizationSpentNano: toBigInt(row.org_spent),
    organizationReservedNano: toBigInt(row.org_reserved),
    apiKeysSpentNano: toBigInt(row.keys_spent),
    apiKeysReservedNano: toBigInt(row.keys_reserved),
    keySpentNano: toBigInt(row.key_spent),
    keyReservedNano: toBigInt(row.key_reserved),
  };
}

/** The statement of budgetUsage, unexecuted (its plan is checked by the tests). */
export function budgetUsageQuery(db: Db, organizationId: string, month: number, apiKeyId: string | null, now: number) {
  const keyId = apiKeyId ?? '';
  const orgSpent = db
    .selectFrom('rollup_org_model_month')
    .select(sql<bigint>`coalesce(sum(cost_nano), 0)`.as('v'))
    .where('organization_id', '=', organizationId)
    .where('month', '=', month);
  const keysSpent = db
    .selectFrom('rollup_key_model_month')
    .select([
      sql<bigint>`coalesce(sum(cost_nano), 0)`.as('keys'),
      sql<bigint>`coalesce(sum(case when api_key_id = ${keyId} then cost_nano else 0 end), 0)`.as('key'),
    ])
    .where('organization_id', '=', organizationId)
    .where('month', '=', month);
  const reserved = db
    .selectFrom('reservations')
    .select([
      sql<bigint>`coalesce(sum(amount_nano), 0)`.as('all'),
      sql<bigint>`coalesce(sum(case when api_key_id is not null then amount_nano else 0 end), 0)`.as('keys'),
      sql<bigint>`coalesce(sum(case when api_key_id = ${keyId} then amount_nano else 0 end), 0)`.as('key'),
    ])
    .where('organization_id', '=', organizationId)
    .where('settled_at', 'is', null)
    .where('expires_at', '>', BigInt(now));
  // An aggregate, so always one row: found is 0 for an unknown key (the id is the key, so the
  // maxima are the one row's values).
  const key = db
    .selectFrom('api_keys')
    .select([
      sql<bigint>`count(*)`.as('found'),
      sql<bigint | null>`max(monthly_limit_nano)`.as('limit'),
      sql<string | null>`max(state)`.as('state'),
      sql<bigint | null>`max(expires_at)`.as('expires_at'),
    ])
    .where('organization_id', '=', organizationId)
    .where('id', '=', keyId);
  return db
    .with('spent', () => keysSpent)
    .with('held', () => reserved)
    .with('key', () => key)
    .selectFrom(['spent', 'held', 'key'])
    .select([
      'key.found as key_found',
      'key.limit as key_limit',
      'key.state as key_state',
      'key.expires_at as key_expires_at',
      orgSpent.as('org_spent'),
      'held.all as org_reserved',
      'spent.keys as keys_spent',
      'held.keys as keys_reserved',
      'spent.key as key_spent',
      'held.key as key_reserved',
    ]);
}
