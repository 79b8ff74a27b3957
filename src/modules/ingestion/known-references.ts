/**
 * Organizations and API keys that usage events name, as this process knows them, so that a
 * busy gateway's batches do not look up the same few hundred ids again and again.
 * Organizations are never removed: only ids not seen yet are asked about. API keys are known
 * with their lifetimes (creation and deletion times), which api-keys/key-lifetimes.ts keeps
 * current.
 */
import type { Db } from '../../storage/schema.ts';
import type { KeyLifetime } from '../api-keys/api-keys.repository.ts';
import { keyLifetimes } from '../api-keys/key-lifetimes.ts';
import { existingOrganizationIds } from '../orgs/orgs.repository.ts';

/** Bounds memory on a platform with very many tenants; past it the set starts over. */
const MAX_KNOWN = 200_000;

const knownOrgsByDatabase = new WeakMap<Db, Set<string>>();

function knownOrgsFor(db: Db): Set<string> {
  let known = knownOrgsByDatabase.get(db);
  if (!known || known.size > MAX_KNOWN) {
    known = new Set();
    knownOrgsByDatabase.set(db, known);
  }
  return known;
}

/**
 * Which of the organizations exist, and the lifetimes of those of the keys that exist, by
 * "org/key" (`keys` maps each distinct "org/key" to its key id).
 */
export async function existingReferences(
  db: Db,
  orgIds: readonly string[],
  keys: ReadonlyMap<string, string>,
  now: number,
): Promise<{ orgs: Set<string>; keys: ReadonlyMap<string, KeyLifetime> }> {
  const known = knownOrgsFor(db);
  const unknownOrgs = [...new Set(orgIds)].filter((id) => !known.has(id));
  const [orgs, lifetimes] = await Promise.all([
    unknownOrgs.length > 0 ? existingOrganizationIds(db, unknownOrgs) : new Set<string>(),
    keys.size > 0 ? keyLifetimes(db).lookup(keys, now) : new Map<string, KeyLifetime>(),
  ]);
  for (const id of orgs) known.add(id);
  return { orgs: known, keys: lifetimes };
}
