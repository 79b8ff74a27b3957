/**
 * API keys: credentials of one organization (or platform admin keys of none). A secret is
 * returned once, at creation; afterwards only its hash exists.
 */
import { AppError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import type { Db } from '../../storage/schema.ts';
import { requireOrganization } from '../orgs/orgs.service.ts';
import { type AdminKey, type ApiKey, findApiKey, insertAdminKey, insertApiKey } from './api-keys.repository.ts';
import { DEFAULT_SCOPES, type Scope } from './scopes.ts';
import { generateSecret } from './secrets.ts';

export interface NewApiKey {
  name: string;
  scopes?: Scope[] | undefined;
  monthlyLimitNano?: bigint | null | undefined;
  expiresAt?: number | null | undefined;
}

export async function createApiKey(
  db: Db,
  organizationId: string,
  input: NewApiKey,
  now: number,
): Promise<{ apiKey: ApiKey; secret: string }> {
  await requireOrganization(db, organizationId);
  const { secret, prefix, hash } = generateSecret();
  const apiKey: ApiKey = {
    organizationId,
    id: newId('apikey'),
    name: input.name.trim(),
    keyPrefix: prefix,
    keyHash: hash,
    scopes: input.scopes ?? DEFAULT_SCOPES,
    monthlyLimitNano: input.monthlyLimitNano ?? null,
    state: 'active',
    expiresAt: input.expiresAt ?? null,
    createdAt: now,
    lastUsedAt: null,
  };
  await insertApiKey(db, apiKey);
  return { apiKey, secret };
}

export async function createAdminKey(
  db: Db,
  name: string,
  now: number,
): Promise<{ adminKey: AdminKey; secret: string }> {
  const { secret, prefix, hash } = generateSecret();
  const adminKey: AdminKey = {
    id: newId('admin'),
    name: name.trim(),
    keyPrefix: prefix,
    keyHash: hash,
    createdAt: now,
  };
  await insertAdminKey(db, adminKey);
  return { adminKey, secret };
}

/** The key of that organization, or 404 API_KEY_NOT_FOUND (also for another organization's key). */
export async function requireApiKey(db: Db, organizationId: string, apiKeyId: string): Promise<ApiKey> {
  const key = await findApiKey(db, organizationId, apiKeyId);
  if (!key) throw new AppError('API_KEY_NOT_FOUND', { details: { api_key_id: apiKeyId } });
  return key;
}
