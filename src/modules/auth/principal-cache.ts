/**
 * Recently authenticated principals by secret hash, so that a busy key is not looked up in
 * the database on every request. Only successes are kept, and only for a few seconds: a key
 * changed through this process is forgotten at once, and a key changed by another replica
 * or by the CLI stops working here within the TTL. With Redis (REDIS_URL), other replicas and
 * the CLI announce their changes and this cache forgets them at once too; while that news may
 * be missed (Redis unreachable), the cache is not used at all.
 */
import type { Principal } from './principal.ts';

export const PRINCIPAL_TTL_MS = 5_000;
/** Bounds memory when many distinct keys call within one TTL. */
const MAX_ENTRIES = 10_000;

interface Entry {
  principal: Principal;
  /** Epoch ms after which the database is asked again (never past the key's own expiry). */
  validUntil: number;
}

export class PrincipalCache {
  private readonly byHash = new Map<string, Entry>();
  /** Counts the changes heard, so that a lookup that began before one is not kept after it. */
  private forgotten = 0;
  private trusted = true;

  constructor(private readonly ttlMs = PRINCIPAL_TTL_MS) {}

  get(hash: string, now: number): Principal | undefined {
    if (!this.trusted) return undefined;
    const entry = this.byHash.get(hash);
    if (!entry) return undefined;
    // `now` before the entry was made (a clock set back) is as stale as one past its time.
    if (now >= entry.validUntil || now < entry.validUntil - this.ttlMs) {
      this.byHash.delete(hash);
      return undefined;
    }
    return entry.principal;
  }

  /** The mark to give `set` for a principal about to be looked up. */
  mark(): number {
    return this.forgotten;
  }

  /**
   * Keeps the principal until the TTL ends or the key expires, whichever is first; not when a
   * key changed since `mark` was taken (the principal may have been read before that change).
   */
  set(hash: string, principal: Principal, now: number, keyExpiresAt: number | null, mark?: number): void {
    if (!this.trusted || (mark !== undefined && mark !== this.forgotten)) return;
    if (this.byHash.size >= MAX_ENTRIES) this.byHash.clear();
    const validUntil = Math.min(now + this.ttlMs, keyExpiresAt ?? Number.POSITIVE_INFINITY);
    if (validUntil > now) this.byHash.set(hash, { principal, validUntil });
  }

  /** Forgets every cached principal of the key (its state, scopes or expiry changed). */
  forgetKey(keyId: string): void {
    this.forgotten++;
    for (const [hash, entry] of this.byHash) {
      const id = entry.principal.kind === 'admin' ? entry.principal.keyId : entry.principal.apiKeyId;
      if (id === keyId) this.byHash.delete(hash);
    }
  }

  /** Changes may go unheard from now on: nothing cached is trusted until `trust` is called. */
  distrust(): void {
    this.trusted = false;
    this.forgotten++;
    this.byHash.clear();
  }

  /** Changes are heard again; what was cached before is gone already. */
  trust(): void {
    this.byHash.clear();
    this.trusted = true;
  }
}
