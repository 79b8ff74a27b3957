import type { Db } from '../../storage/schema.ts';
import { toNullableBigInt, toNullableNumber, toNumber } from '../../storage/values.ts';
import type { ApiKeyRow, ApiKeyState } from './api-keys.table.ts';
import { formatScopes, parseScopes, type Scope } from './scopes.ts';

export interface ApiKey {
  organizationId: string;
  id: string;
  name: string;
  keyPrefix: string;
  keyHash: string;
  scopes: Scope[];
  monthlyLimitNano: bigint | null;
  state: ApiKeyState;
  expiresAt: number | null;
  createdAt: number;
  lastUsedAt: number | null;
  deletedAt: number | null;
}

function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    organizationId: row.organization_id,
    id: row.id,
    name: row.name,
    keyPrefix: row.key_prefix,
    keyHash: row.key_hash,
    scopes: parseScopes(row.scopes),
    monthlyLimitNano: toNullableBigInt(row.monthly_limit_nano),
    state: row.state,
    expiresAt: toNullableNumber(row.expires_at),
    createdAt: toNumber(row.created_at),
    lastUsedAt: toNullableNumber(row.last_used_at),
    deletedAt: toNullableNumber(row.deleted_at),
  };
}

export async function insertApiKey(db: Db, key: ApiKey): Promise<void> {
  await db
    .insertInto('api_keys')
    .values({
      organization_id: key.organizationId,
      id: key.id,
      name: key.name,
      key_prefix: key.keyPrefix,
      key_hash: key.keyHash,
      scopes: formatScopes(key.scopes),
      monthly_limit_nano: key.monthlyLimitNano,
      state: key.state,
      expires_at: key.expiresAt,
      created_at: key.createdAt,
      last_used_at: key.lastUsedAt,
      deleted_at: key.deletedAt,
    })
    .execute();
}

export async function findApiKey(db: Db, organizationId: string, id: string): Promise<ApiKey | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toApiKey(row);
}

export async function findApiKeyByHash(db: Db, keyHash: string): Promise<ApiKey | undefined> {
  const row = await db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
  return row && toApiKey(row);
}

/** When a key existed: from its creation until its deletion (null: not deleted). */
export interface KeyLifetime {
  createdAt: number;
  deletedAt: number | null;
}

/** The lifetimes of those of the given key ids that exist, by "org/key". */
export async function apiKeyLifetimes(db: Db, ids: readonly string[]): Promise<Map<string, KeyLifetime>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('api_keys')
    .select(['organization_id', 'id', 'created_at', 'deleted_at'])
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [`${r.organization_id}/${r.id}`, lifetimeOf(r)]));
}

/** Keys deleted at or after `since` (through the partial index on deleted_at), by "org/key". */
export async function apiKeysDeletedSince(db: Db, since: number): Promise<Map<string, KeyLifetime>> {
  const rows = await db
    .selectFrom('api_keys')
    .select(['organization_id', 'id', 'created_at', 'deleted_at'])
    .where('deleted_at', 'is not', null)
    .where('deleted_at', '>=', BigInt(since))
    .execute();
  return new Map(rows.map((r) => [`${r.organization_id}/${r.id}`, lifetimeOf(r)]));
}

function lifetimeOf(row: Pick<ApiKeyRow, 'created_at' | 'deleted_at'>): KeyLifetime {
  return { createdAt: toNumber(row.created_at), deletedAt: toNullableNumber(row.deleted_at) };
}

export interface ApiKeyPage {
  keys: ApiKey[];
  totalCount: number;
}

/** One page of an organization's keys, newest first; deleted keys only when asked for. */
export async function listApiKeys(
  db: Db,
  organizationId: string,
  options: { includeDeleted: boolean; limit: number; offset: number },
): Promise<ApiKeyPage> {
  let base = db.selectFrom('api_keys').where('organization_id', '=', organizationId);
  if (!options.includeDeleted) base = base.where('state', '!=', 'deleted');
  const [rows, count] = await Promise.all([
    base.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(options.limit).offset(options.offset).execute(),
    base.select((eb) => eb.fn.countAll().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { keys: rows.map(toApiKey), totalCount: toNumber(count.count) };
}

export interface ApiKeyChanges {
  name?: string | undefined;
  scopes?: Scope[] | undefined;
  monthlyLimitNano?: bigint | null | undefined;
  expiresAt?: number | null | undefined;
  state?: ApiKeyState | undefined;
  deletedAt?: number | undefined;
}

/** Writes the given fields (undefined ones stay as they are). */
export async function updateApiKey(db: Db, organizationId: string, id: string, changes: ApiKeyChanges): Promise<void> {
  const values = {
    ...(changes.name !== undefined ? { name: changes.name } : {}),
    ...(changes.scopes !== undefined ? { scopes: formatScopes(changes.scopes) } : {}),
    ...(changes.monthlyLimitNano !== undefined ? { monthly_limit_nano: changes.monthlyLimitNano } : {}),
    ...(changes.expiresAt !== undefined ? { expires_at: changes.expiresAt } : {}),
    ...(changes.state !== undefined ? { state: changes.state } : {}),
    ...(changes.deletedAt !== undefined ? { deleted_at: changes.deletedAt } : {}),
  };
  if (Object.keys(values).length === 0) return;
  await db
    .updateTable('api_keys')
    .set(values)
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .execute();
}

export async function recordApiKeyUse(db: Db, id: string, at: number): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
}

export interface KeyLimit {
  id: string;
  name: string;
  monthlyLimitNano: bigint | null;
}

/** The organization's keys that can still spend (not deleted), with their limits. */
export async function liveKeyLimits(db: Db, organizationId: string): Promise<KeyLimit[]> {
  const rows = await db
    .selectFrom('api_keys')
    .select(['id', 'name', 'monthly_limit_nano'])
    .where('organization_id', '=', organizationId)
    .where('state', '!=', 'deleted')
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, monthlyLimitNano: toNullableBigInt(r.monthly_limit_nano) }));
}
