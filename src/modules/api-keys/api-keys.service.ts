/**
 * API keys: credentials of one organization. A secret is returned once, at creation;
 * afterwards only its hash exists.
 */

import type { AppContext } from '../../context.ts';
import { AppError, invalidRequest } from '../../errors.ts';
import { newId } from '../../ids.ts';
import type { Db } from '../../storage/schema.ts';
import { EARLIEST_EVENT_MS, isoSeconds } from '../../time/calendar.ts';
import type { Principal } from '../auth/principal.ts';
import { requireOrganization } from '../orgs/orgs.service.ts';
import {
  type ApiKey,
  type ApiKeyChanges,
  type ApiKeyPage,
  findApiKey,
  insertApiKey,
  listApiKeys,
  updateApiKey,
} from './api-keys.repository.ts';
import { DEFAULT_SCOPES, type Scope } from './scopes.ts';
import { generateSecret } from './secrets.ts';

export interface NewApiKey {
  name: string;
  scopes?: Scope[] | undefined;
  monthlyLimitNano?: bigint | null | undefined;
  expiresAt?: number | null | undefined;
  /** Since when the key exists; defaults to `now`. */
  createdAt?: number | undefined;
}

/**
 * A key grants only scopes it holds itself, so that `manage:keys` alone cannot mint a key
 * that reads or reports usage; platform admins (and the CLI) grant any.
 */
function requireGrantable(grantor: Principal, scopes: readonly Scope[], defaulted: boolean): void {
  if (grantor.kind === 'admin') return;
  const notHeld = scopes.filter((scope) => !grantor.scopes.includes(scope));
  if (notHeld.length === 0) return;
  const reason = `A key can grant only scopes it holds itself; this key does not hold ${notHeld.join(', ')}`;
  const hint = defaulted ? ` (the default scopes ${scopes.join(', ')}, since none were named: name them)` : '';
  throw new AppError('INSUFFICIENT_PERMISSIONS', {
    systemMessage: reason + hint,
    details: { scopes_not_held: notHeld },
  });
}

export async function createApiKey(
  db: Db,
  organizationId: string,
  input: NewApiKey,
  now: number,
  grantor: Principal,
): Promise<{ apiKey: ApiKey; secret: string }> {
  const scopes = input.scopes ?? DEFAULT_SCOPES;
  requireGrantable(grantor, scopes, input.scopes === undefined);
  const createdAt = input.createdAt ?? now;
  if (!(createdAt >= EARLIEST_EVENT_MS && createdAt <= now)) {
    throw invalidRequest('Invalid request body', [
      { field: 'created_at', reason: `must be from ${isoSeconds(EARLIEST_EVENT_MS)} to now` },
    ]);
  }
  await requireOrganization(db, organizationId);
  const { secret, prefix, hash } = generateSecret();
  const apiKey: ApiKey = {
    organizationId,
    id: newId('apikey'),
    name: input.name.trim(),
    keyPrefix: prefix,
    keyHash: hash,
    scopes,
    monthlyLimitNano: input.monthlyLimitNano ?? null,
    state: 'active',
    expiresAt: input.expiresAt ?? null,
    createdAt,
    lastUsedAt: null,
    deletedAt: null,
  };
  await insertApiKey(db, apiKey);
  return { apiKey, secret };
}

/** The key of that organization, or 404 API_KEY_NOT_FOUND (also for another organization's key). */
export async function requireApiKey(db: Db, organizationId: string, apiKeyId: string): Promise<ApiKey> {
  const key = await findApiKey(db, organizationId, apiKeyId);
  if (!key) throw new AppError('API_KEY_NOT_FOUND', { details: { api_key_id: apiKeyId } });
  return key;
}

// ---- management of an organization's keys ----
// A deleted key is gone for management: reading, changing or re-activating it is 404
// API_KEY_NOT_FOUND. Its usage history stays readable through the analytics routes, and
// listings show it with `include_deleted`.

export async function listOrganizationKeys(
  db: Db,
  organizationId: string,
  options: { page: number; pageSize: number; includeDeleted: boolean },
): Promise<ApiKeyPage> {
  await requireOrganization(db, organizationId);
  return listApiKeys(db, organizationId, {
    includeDeleted: options.includeDeleted,
    limit: options.pageSize,
    offset: (options.page - 1) * options.pageSize,
  });
}

/** The organization's key unless it was deleted; 404 ORGANIZATION_NOT_FOUND / API_KEY_NOT_FOUND otherwise. */
export async function requireManagedKey(db: Db, organizationId: string, apiKeyId: string): Promise<ApiKey> {
  await requireOrganization(db, organizationId);
  const key = await findApiKey(db, organizationId, apiKeyId);
  if (!key || key.state === 'deleted') {
    throw new AppError('API_KEY_NOT_FOUND', {
      systemMessage: `No API key ${apiKeyId} in organization ${organizationId}${key ? ' (it was deleted)' : ''}`,
      details: { api_key_id: apiKeyId },
    });
  }
  return key;
}

export type ApiKeyUpdate = Omit<ApiKeyChanges, 'state'>;

export async function changeApiKey(
  db: Db,
  organizationId: string,
  apiKeyId: string,
  update: ApiKeyUpdate,
  grantor: Principal,
): Promise<ApiKey> {
  if (update.scopes !== undefined) requireGrantable(grantor, update.scopes, false);
  const key = await requireManagedKey(db, organizationId, apiKeyId);
  const changes: ApiKeyChanges = { ...update, name: update.name?.trim() };
  await updateApiKey(db, organizationId, apiKeyId, changes);
  return { ...key, ...definedOnly(changes) };
}

/**
 * Activates, deactivates or (softly, for good) deletes a key. A deletion records its time:
 * from then on, ingestion refuses events of the key dated at or after it.
 */
export async function setApiKeyState(
  ctx: Pick<AppContext, 'storage' | 'keys'>,
  organizationId: string,
  apiKeyId: string,
  state: ApiKey['state'],
  now: number,
): Promise<ApiKey> {
  const db = ctx.storage.db;
  const key = await requireManagedKey(db, organizationId, apiKeyId);
  if (key.state === state) return key;
  const deletedAt = state === 'deleted' ? now : undefined;
  await updateApiKey(db, organizationId, apiKeyId, { state, deletedAt });
  if (deletedAt !== undefined) ctx.keys.deleted(organizationId, apiKeyId, deletedAt);
  return { ...key, state, deletedAt: deletedAt ?? key.deletedAt };
}

function definedOnly(changes: ApiKeyChanges): Partial<ApiKey> {
  return Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as Partial<ApiKey>;
}
