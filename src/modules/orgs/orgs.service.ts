/** Organizations: the tenants. Everything else is scoped to one. */
import { AppError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import type { Db } from '../../storage/schema.ts';
import { findOrganization, insertOrganization, type Organization } from './orgs.repository.ts';

export async function createOrganization(
  db: Db,
  input: { name: string; id?: string | undefined },
  now: number,
): Promise<Organization> {
  const id = input.id ?? newId('org');
  if (input.id !== undefined && (await findOrganization(db, id))) {
    throw new AppError('INVALID_REQUEST', {
      message: 'Organization exists',
      systemMessage: `id ${id} is already taken`,
      details: { errors: [{ field: 'id', reason: 'is already taken' }] },
    });
  }
  const name = input.name;
  const org: Organization = {
    id,
    name: name.trim(),
    createdAt: now,
    monthlyLimitNano: null,
    apiKeysLimitNano: null,
  };
  await insertOrganization(db, org);
  return org;
}

/** The organization, or 404 ORGANIZATION_NOT_FOUND (only platform admins can get this far for an unknown id). */
export async function requireOrganization(db: Db, id: string): Promise<Organization> {
  const org = await findOrganization(db, id);
  if (!org) throw new AppError('ORGANIZATION_NOT_FOUND', { details: { organization_id: id } });
  return org;
}
