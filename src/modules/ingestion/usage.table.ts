/**
 * Raw usage events and the rollups that ingestion keeps beside them. Each rollup has the
 * grain one family of analytics queries needs, so that no query reads raw events.
 */
import type { ColumnType } from 'kysely';

type Int64 = ColumnType<bigint, bigint | number, bigint | number>;

export interface UsageEventsTable {
  organization_id: string;
  /** Chosen by the reporter; a second event with the same id in the organization is a retry. */
  id: string;
  api_key_id: string | null;
  model: string;
  neurons: Int64;
  synapses: Int64;
  cost_nano: Int64;
  /** Where `cost_nano` came from; only 'sheet' and 'unpriced' events are ever repriced. */
  cost_source: ColumnType<CostSource, CostSource | undefined, CostSource>;
  /** When the request happened, epoch ms. */
  occurred_at: Int64;
  /** When it was stored, epoch ms. */
  received_at: Int64;
}

/** The reporter stated the cost, the price sheet gave it, or the sheet had no price (cost 0). */
export type CostSource = 'reported' | 'sheet' | 'unpriced';

/** Counters every rollup carries. */
export interface RollupCounters {
  requests: Int64;
  neurons: Int64;
  synapses: Int64;
  cost_nano: Int64;
}

/**
 * All usage per organization and month. Every row of the other rollups is part of one of these,
 * and its CHECK constraints bound what an organization may use in a month (see month-limits.ts).
 */
export interface RollupOrgMonthTable extends RollupCounters {
  organization_id: string;
  month: number; // yyyymm
}

/** All usage (with or without key) per organization, model and month: summary, top models. */
export interface RollupOrgModelMonthTable extends RollupCounters {
  organization_id: string;
  month: number; // yyyymm
  model: string;
}

/** Programmatic usage per organization, API key, model and month: key routes and limits. */
export interface RollupKeyModelMonthTable extends RollupCounters {
  organization_id: string;
  month: number;
  api_key_id: string;
  model: string;
}

/** All usage per organization, API key (`''` for web usage) and day: daily series. */
export interface RollupKeyDayTable extends RollupCounters {
  organization_id: string;
  day: number; // yyyymmdd
  api_key_id: string;
}

/** The `api_key_id` a daily rollup row uses for usage without a key (primary keys cannot hold null). */
export const NO_API_KEY = '';
