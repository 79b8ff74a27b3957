/**
 * When the API keys that usage events name existed, kept per process so that ingestion does
 * not ask the database about the same keys for every batch. A key's creation time never
 * changes and its deletion time changes once, from none to a time. Deletions through this
 * process are noted at once. Deletions through another process (a replica, the CLI) are found
 * by one query for the keys deleted since the last look, made by the first batch that comes
 * DELETIONS_POLL_MS or more after it: such a key's new events are refused from at most that
 * long after its deletion.
 */
import type { Db } from '../../storage/schema.ts';
import { apiKeyLifetimes, apiKeysDeletedSince, type KeyLifetime } from './api-keys.repository.ts';

export const DELETIONS_POLL_MS = 5_000;
/** Each look goes back this far before the last one: commit delays and clock skew between processes. */
const DELETIONS_OVERLAP_MS = 5 * 60_000;
/** Bounds memory on a platform with very many keys; past it the cache starts over. */
const MAX_KNOWN = 200_000;

export class KeyLifetimes {
  private readonly known = new Map<string, KeyLifetime>();
  private lastLook: number | undefined;
  private looking: Promise<void> | undefined;

  constructor(private readonly db: Db) {}

  /**
   * The lifetimes of those of the keys that exist, by "org/key". `keys` maps each distinct
   * "org/key" to its key id.
   */
  async lookup(keys: ReadonlyMap<string, string>, now: number): Promise<Map<string, KeyLifetime>> {
    if (this.lastLook === undefined) this.lastLook = now;
    else await this.lookForDeletions(now);
    const answer = new Map<string, KeyLifetime>();
    const unknown: string[] = [];
    for (const [pair, keyId] of keys) {
      const lifetime = this.known.get(pair);
      if (lifetime) answer.set(pair, lifetime);
      else unknown.push(keyId);
    }
    if (unknown.length === 0) return answer;
    const found = await apiKeyLifetimes(this.db, unknown);
    if (this.known.size + found.size > MAX_KNOWN) this.known.clear();
    for (const [pair, lifetime] of found) {
      this.remember(pair, lifetime);
      // A key id named with another organization than its own is found, but not answered.
      if (keys.has(pair)) answer.set(pair, this.known.get(pair)!);
    }
    return answer;
  }

  /** The key was deleted through this process. */
  deleted(organizationId: string, apiKeyId: string, at: number): void {
    const pair = `${organizationId}/${apiKeyId}`;
    const known = this.known.get(pair);
    if (known) this.known.set(pair, { ...known, deletedAt: at });
  }

  /** A lifetime read before a deletion must not undo what a later look found. */
  private remember(pair: string, lifetime: KeyLifetime): void {
    const known = this.known.get(pair);
    this.known.set(pair, known && known.deletedAt !== null ? known : lifetime);
  }

  private lookForDeletions(now: number): Promise<void> | undefined {
    const last = this.lastLook ?? now;
    // A clock set back looks again rather than trusting a look "from the future".
    if (now - last < DELETIONS_POLL_MS && now >= last) return undefined;
    // Concurrent batches share one look.
    this.looking ??= (async () => {
      try {
        const deleted = await apiKeysDeletedSince(this.db, last - DELETIONS_OVERLAP_MS);
        for (const [pair, lifetime] of deleted) if (this.known.has(pair)) this.known.set(pair, lifetime);
        this.lastLook = now;
      } finally {
        this.looking = undefined;
      }
    })();
    return this.looking;
  }
}
