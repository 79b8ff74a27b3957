import type { Db } from '../../storage/schema.ts';
import type { Storage } from '../../storage/storage.ts';
import { toNullableBigInt, toNumber } from '../../storage/values.ts';
import type { OrganizationRow } from './orgs.table.ts';

export interface Organization {
  id: string;
  name: string;
  createdAt: number;
  monthlyLimitNano: bigint | null;
  apiKeysLimitNano: bigint | null;
}

function toOrganization(row: OrganizationRow): Organization {
  return {
    id: row.id,
    name: row.name,
    createdAt: toNumber(row.created_at),
    monthlyLimitNano: toNullableBigInt(row.monthly_limit_nano),
    apiKeysLimitNano: toNullableBigInt(row.api_keys_limit_nano),
  };
}

export async function insertOrganization(db: Db, org: Organization): Promise<void> {
  await db
    .insertInto('organizations')
    .values({
      id: org.id,
      name: org.name,
      created_at: org.createdAt,
      monthly_limit_nano: org.monthlyLimitNano,
      api_keys_limit_nano: org.apiKeysLimitNano,
    })
    .execute();
}

export async function findOrganization(db: Db, id: string): Promise<Organization | undefined> {
  const row = await db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toOrganization(row);
}

/**
 * Reads the organization and serializes budget decisions of it until the transaction ends,
 * across every process sharing the database. Undefined when the organization does not exist.
 */
export async function lockOrganization(
  storage: Pick<Storage, 'forUpdate'>,
  trx: Db,
  id: string,
): Promise<Organization | undefined> {
  const row = await storage
    .forUpdate(trx.selectFrom('organizations').selectAll().where('id', '=', id))
    .executeTakeFirst();
  return row && toOrganization(row);
}

/** Which of `ids` exist. */
export async function existingOrganizationIds(db: Db, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('organizations').select('id').where('id', 'in', ids).execute();
  return new Set(rows.map((r) => r.id));
}

export interface OrganizationPage {
  organizations: Organization[];
  totalCount: number;
}

/** One page of the organizations, oldest first (the order in which they were created). */
export async function listOrganizations(db: Db, options: { limit: number; offset: number }): Promise<OrganizationPage> {
  const [rows, count] = await Promise.all([
    db
      .selectFrom('organizations')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .limit(options.limit)
      .offset(options.offset)
      .execute(),
    db
      .selectFrom('organizations')
      .select((eb) => eb.fn.countAll().as('count'))
      .executeTakeFirstOrThrow(),
  ]);
  return { organizations: rows.map(toOrganization), totalCount: toNumber(count.count) };
}

/** Renames the organization; false when there is none with that id. */
export async function renameOrganization(db: Db, id: string, name: string): Promise<boolean> {
  const result = await db.updateTable('organizations').set({ name }).where('id', '=', id).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
