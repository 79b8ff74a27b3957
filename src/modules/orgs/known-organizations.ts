/**
 * The organizations this process has seen, with their creation times, so that busy routes do
 * not ask the database about the same ids again and again. Organizations are never removed and
 * their creation time never changes: what was read once stays true.
 */
import type { Db } from '../../storage/schema.ts';
import { existingOrganizationIds } from './orgs.repository.ts';
import { requireOrganization } from './orgs.service.ts';

/** Bounds memory on a platform with very many tenants; past it the memo starts over. */
const MAX_KNOWN = 200_000;

export class KnownOrganizations {
  /** Id → creation time (epoch ms), or null where only existence is known. */
  private readonly known = new Map<string, number | null>();

  constructor(private readonly db: Db) {}

  /** When the organization was created, or 404 ORGANIZATION_NOT_FOUND. */
  async createdAt(organizationId: string): Promise<number> {
    const known = this.known.get(organizationId);
    if (known !== undefined && known !== null) return known;
    const { createdAt } = await requireOrganization(this.db, organizationId);
    this.remember(organizationId, createdAt);
    return createdAt;
  }

  /** Which of the organizations exist; only those not seen yet are asked about. */
  async existing(organizationIds: readonly string[]): Promise<Set<string>> {
    const unknown = [...new Set(organizationIds)].filter((id) => !this.known.has(id));
    if (unknown.length > 0) {
      for (const id of await existingOrganizationIds(this.db, unknown)) this.remember(id, null);
    }
    return new Set(organizationIds.filter((id) => this.known.has(id)));
  }

  private remember(organizationId: string, createdAt: number | null): void {
    if (this.known.size >= MAX_KNOWN) this.known.clear();
    if (createdAt !== null || !this.known.has(organizationId)) this.known.set(organizationId, createdAt);
  }
}
