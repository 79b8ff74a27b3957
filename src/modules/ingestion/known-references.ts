/**
 * Organizations and API keys this process has already seen exist, so that a busy gateway's
 * batches do not look up the same few hundred ids again and again. Only existence is kept,
 * and it cannot go stale: organizations and keys are never removed (a deleted key is a state,
 * and its usage is still accepted), so the database is asked only about ids not seen yet.
 */
import type { Db } from '../../storage/schema.ts';
import { existingApiKeyPairs } from '../api-keys/api-keys.repository.ts';
import { existingOrganizationIds } from '../orgs/orgs.repository.ts';

/** Bounds memory on a platform with very many tenants; past it the sets start over. */
const MAX_KNOWN = 200_000;

interface Known {
  orgs: Set<string>;
  /** "organization/key" */
  keys: Set<string>;
}

const knownByDatabase = new WeakMap<Db, Known>();

function knownFor(db: Db): Known {
  let known = knownByDatabase.get(db);
  if (!known || known.orgs.size + known.keys.size > MAX_KNOWN) {
    known = { orgs: new Set(), keys: new Set() };
    knownByDatabase.set(db, known);
  }
  return known;
}

/** Which of the organizations and (organization, key) pairs exist, as ids and "org/key" strings. */
export async function existingReferences(
  db: Db,
  orgIds: readonly string[],
  keyPairs: ReadonlyArray<[string, string]>,
): Promise<{ orgs: Set<string>; keys: Set<string> }> {
  const known = knownFor(db);
  const unknownOrgs = [...new Set(orgIds)].filter((id) => !known.orgs.has(id));
  const unknownKeys = keyPairs.filter(([org, key]) => !known.keys.has(`${org}/${key}`));
  const [orgs, keys] = await Promise.all([
    unknownOrgs.length > 0 ? existingOrganizationIds(db, unknownOrgs) : new Set<string>(),
    unknownKeys.length > 0 ? existingApiKeyPairs(db, unknownKeys) : new Set<string>(),
  ]);
  for (const id of orgs) known.orgs.add(id);
  for (const pair of keys) known.keys.add(pair);
  return { orgs: known.orgs, keys: known.keys };
}
