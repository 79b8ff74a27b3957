/** Organizations: the tenants. Everything else is scoped to one. */
import { AppError, invalidRequest } from '../../errors.ts';
import { newId } from '../../ids.ts';
import type { Db } from '../../storage/schema.ts';
import {
  findOrganization,
  insertOrganization,
  listOrganizations,
  type Organization,
  type OrganizationPage,
  renameOrganization,
} from './orgs.repository.ts';

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
  const org: Organization = {
    id,
    name: organizationName(input.name),
    createdAt: now,
    monthlyLimitNano: null,
    apiKeysLimitNano: null,
  };
  await insertOrganization(db, org);
  return org;
}

const MAX_NAME = 200;

/** A name as stored: trimmed, not blank, at most 200 characters (the CLI is checked here too). */
function organizationName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > MAX_NAME) {
    throw invalidRequest('Invalid organization', [
      { field: 'name', reason: `must have 1 to ${MAX_NAME} characters, not only spaces` },
    ]);
  }
  return trimmed;
}

/** One page of every organization, oldest first. */
export async function organizationPage(db: Db, page: number, pageSize: number): Promise<OrganizationPage> {
  return listOrganizations(db, { limit: pageSize, offset: (page - 1) * pageSize });
}

/** Gives the organization a new name; 404 ORGANIZATION_NOT_FOUND when there is none with that id. */
export async function renameOrganizationTo(db: Db, id: string, name: string): Promise<Organization> {
  if (!(await renameOrganization(db, id, organizationName(name)))) {
    throw new AppError('ORGANIZATION_NOT_FOUND', { details: { organization_id: id } });
  }
  return requireOrganization(db, id);
}

/** The organization, or 404 ORGANIZATION_NOT_FOUND (only platform admins can get this far for an unknown id). */
export async function requireOrganization(db: Db, id: string): Promise<Organization> {
  const org = await findOrganization(db, id);
  if (!org) throw new AppError('ORGANIZATION_NOT_FOUND', { details: { organization_id: id } });
  return org;
}
