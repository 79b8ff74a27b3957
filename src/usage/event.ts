/**
 * The usage event: one model request as ingestion stores it and every module reads it. The
 * core type that ingestion, pricing and analytics share; nothing here does I/O.
 */

/** The reporter stated the cost, the price sheet gave it, or the sheet had no price (cost 0). */
export type CostSource = 'reported' | 'sheet' | 'unpriced';

export interface UsageEvent {
  organizationId: string;
  /** Chosen by the reporter; a second event with the same id in the organization is a retry. */
  id: string;
  /** The key that made the request; null for usage from the web app. */
  apiKeyId: string | null;
  model: string;
  /** Input units, all of them: the cache parts below are included. */
  neurons: bigint;
  /** The part of `neurons` read from the provider's prompt cache; 0n when not reported. */
  cachedNeurons: bigint;
  /** The part of `neurons` written to the provider's prompt cache; 0n when not reported. */
  cacheWriteNeurons: bigint;
  /** Output units, all of them: the reasoning part is included. */
  synapses: bigint;
  /** The part of `synapses` spent on reasoning; 0n when not reported. */
  reasoningSynapses: bigint;
  /** The organization's own user or customer who caused the request; never a credential. */
  endUser: string | null;
  /** Labels of the request (`feature: chat`); empty when it has none. */
  tags: Readonly<Record<string, string>>;
  costNano: bigint;
  /** Absent means 'reported'. */
  costSource?: CostSource;
  /** When the request happened, epoch milliseconds. */
  occurredAt: number;
}

/** The `api_key_id` a rollup row uses for usage without a key (primary keys cannot hold null). */
export const NO_API_KEY = '';

/** No tags: shared, as it is never changed. */
export const NO_TAGS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Tags as stored: JSON with the keys sorted, so that equal tags are equal text; null when there
 * are none.
 */
export function canonicalTags(tags: Readonly<Record<string, string>>): string | null {
  const keys = Object.keys(tags).sort();
  if (keys.length === 0) return null;
  return JSON.stringify(Object.fromEntries(keys.map((key) => [key, tags[key]])));
}

/** The `end_user` a rollup row uses for usage that names no end user. */
export const NO_END_USER = '';
