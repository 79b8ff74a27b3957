/**
 * Results of rollup reads, reused for as long as nothing has been committed since they were
 * read: a dashboard polling a quiet organization, or many gateways asking for the same
 * summary, then cost a lookup instead of queries.
 *
 * Whether anything has been committed is the database's own word, a change marker read after
 * the request arrived, so a reused result is never older than any write acknowledged before
 * the request, by this process, another replica or the CLI. The marker is global: any write
 * makes every result be read again, so under steady ingestion most reads still query. Reading
 * the marker is then a round trip that buys nothing, so a key that missed MISS_STREAK times in a
 * row is read straight from the database, without the marker, for its next BYPASS_CALLS calls.
 * A bypassing call reads as fresh as the database is, so this costs no staleness; at worst a
 * few calls after ingestion stops query instead of hitting.
 */

/** Misses in a row after which a key stops reading the marker for a while. */
export const MISS_STREAK = 4;
/** Calls of such a key answered straight from the database before the marker is tried again. */
export const BYPASS_CALLS = 16;

/** A value that differs from every earlier one once anything has been committed since. */
export type ChangeMarker = () => string | Promise<string>;

interface Entry {
  marker: string;
  value: unknown;
  /** Misses in a row, this one included. */
  misses: number;
  /** Calls left that skip the marker and read the database. */
  bypass: number;
}

export class ReadMemo {
  private readonly entries = new Map<string, Entry>();
  /** Calls answered from the memo, and calls that read the database (/metrics reports both). */
  readonly counts = { hits: 0, misses: 0 };

  /** `maxEntries` bounds memory when many distinct reads happen between two commits; 0 keeps nothing. */
  constructor(
    private readonly changeMarker: ChangeMarker,
    private readonly maxEntries: number,
  ) {}

  /**
   * `load()`'s result, or the one an earlier call stored under the same `key` (the read's
   * name and every argument it depends on) if nothing has been committed since that call
   * began. Results are shared between requests: never mutate one. A failing `load` (an
   * unknown organization, say) is not kept.
   */
  async get<T>(key: ReadonlyArray<string | number>, load: () => Promise<T>): Promise<T> {
    if (this.maxEntries === 0) {
      this.counts.misses++;
      return load();
    }
    const id = JSON.stringify(key);
    const known = this.entries.get(id);
    if (known && known.bypass > 0) {
      known.bypass--;
      this.counts.misses++;
      return load();
    }
    // Read before the data: a write committed in between changes the marker, so the result
    // stored under this marker can only ever be newer than the marker says, never older.
    const marker = await this.changeMarker();
    const entry = this.entries.get(id);
    if (entry?.marker === marker) {
      entry.misses = 0;
      this.counts.hits++;
      return entry.value as T;
    }
    this.counts.misses++;
    const value = await load();
    const misses = (entry?.misses ?? 0) + 1;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(id, { marker, value, misses, bypass: misses >= MISS_STREAK ? BYPASS_CALLS : 0 });
    return value;
  }
}

/**
 * Makes concurrent calls share reads: a call that arrives while a read is running waits for
 * the next one, which starts after that read ends, so every caller gets a value read after it
 * called, and a burst of callers costs two reads, not one each.
 */
export function sharedReads(read: () => Promise<string>): () => Promise<string> {
  let running: Promise<string> | undefined;
  let queued: Promise<string> | undefined;
  const start = () => {
    const current: Promise<string> = read().finally(() => {
      if (running === current) running = undefined;
    });
    running = current;
    return current;
  };
  return () => {
    if (!running) return start();
    queued ??= running
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        queued = undefined;
        return start();
      });
    return queued;
  };
}
