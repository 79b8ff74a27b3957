import { toNullableBigInt, toNumber } from '../../storage/dialect.ts';
import type { Db } from '../../storage/schema.ts';
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

/** Which of `ids` exist. */
export async function existingOrganizationIds(db: Db, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('organizations').select('id').where('id', 'in', ids).execute();
  return new Set(rows.map((r) => r.id));
}

export async function listOrganizations(db: Db): Promise<Organization[]> {
  const rows = await db.selectFrom('organizations').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(toOrganization);
}
