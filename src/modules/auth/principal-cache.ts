/**
 * Recently authenticated principals by secret hash, so that a busy key is not looked up in
 * the database on every request. Only successes are kept, and only for a few seconds: a key
 * changed through this process is forgotten at once, and a key changed by another replica
 * or by the CLI stops working here within the TTL.
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

  constructor(private readonly ttlMs = PRINCIPAL_TTL_MS) {}

  get(hash: string, now: number): Principal | undefined {
    const entry = this.byHash.get(hash);
    if (!entry) return undefined;
    // `now` before the entry was made (a clock set back) is as stale as one past its time.
    if (now >= entry.validUntil || now < entry.validUntil - this.ttlMs) {
      this.byHash.delete(hash);
      return undefined;
    }
    return entry.principal;
  }

  /** Keeps the principal until the TTL ends or the key expires, whichever is first. */
  set(hash: string, principal: Principal, now: number, keyExpiresAt: number | null): void {
    if (this.byHash.size >= MAX_ENTRIES) this.byHash.clear();
    const validUntil = Math.min(now + this.ttlMs, keyExpiresAt ?? Number.POSITIVE_INFINITY);
    if (validUntil > now) this.byHash.set(hash, { principal, validUntil });
  }

  /** Forgets every cached principal of the key (its state, scopes or expiry changed). */
  forgetKey(keyId: string): void {
    for (const [hash, entry] of this.byHash) {
      const id = entry.principal.kind === 'admin' ? entry.principal.keyId : entry.principal.apiKeyId;
      if (id === keyId) this.byHash.delete(hash);
    }
  }
}
