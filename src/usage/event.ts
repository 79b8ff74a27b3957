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
  neurons: bigint;
  synapses: bigint;
  costNano: bigint;
  /** Absent means 'reported'. */
  costSource?: CostSource;
  /** When the request happened, epoch milliseconds. */
  occurredAt: number;
}

/** The `api_key_id` a rollup row uses for usage without a key (primary keys cannot hold null). */
export const NO_API_KEY = '';
