import type { ColumnType, Selectable } from 'kysely';

type Int64 = ColumnType<bigint, bigint | number, bigint | number>;

/**
 * The price sheet: one row per model (or `*` pattern) and effective time. Prices are integer
 * pico-CHF (1e-12 CHF) per 1M units, so that a price with up to 12 decimals is exact. A row
 * applies from `effective_from` until the model's next row; rows are never rewritten by a
 * later price, so past costs stay as they were.
 */
export interface ModelPricesTable {
  model: string;
  /** Epoch ms, inclusive. */
  effective_from: Int64;
  neurons_pico_per_million: Int64;
  synapses_pico_per_million: Int64;
  /** When the row was written, epoch ms. */
  created_at: Int64;
}

export type ModelPriceRow = Selectable<ModelPricesTable>;
