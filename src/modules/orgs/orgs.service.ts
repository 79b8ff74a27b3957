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

/** Creation times of organizations seen, per database; bounded for platforms with very many tenants. */
const createdAtSeen = new WeakMap<Db, Map<string, number>>();
const MAX_SEEN = 100_000;

/**
 * When the organization was created, or 404 as `requireOrganization`. Read routes call this on
 * every request; organizations are never removed and their creation time never changes, so
 * what was read once is kept instead of asked again.
 */
export async function organizationCreatedAt(db: Db, id: string): Promise<number> {
  let seen = createdAtSeen.get(db);
  const known = seen?.get(id);
  if (known !== undefined) return known;
  const { createdAt } = await requireOrganization(db, id);
  if (!seen || seen.size >= MAX_SEEN) {
    seen = new Map();
    createdAtSeen.set(db, seen);
  }
  seen.set(id, createdAt);
  return createdAt;
}
