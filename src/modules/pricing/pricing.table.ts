import type { ColumnType, Selectable } from 'kysely';

type Int64 = ColumnType<bigint, bigint | number, bigint | number>;
type NullableInt64 = ColumnType<bigint | null, bigint | number | null | undefined, bigint | number | null>;

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
  /** Neurons read from the prompt cache; null: priced as neurons. */
  cached_neurons_pico_per_million: NullableInt64;
  /** Neurons written to the prompt cache; null: priced as neurons. */
  cache_write_neurons_pico_per_million: NullableInt64;
  /** When the row was written, epoch ms. */
  created_at: Int64;
}

export type ModelPriceRow = Selectable<ModelPricesTable>;

/**
 * An organization's own prices (negotiated rates), shaped like the platform sheet and dated the
 * same way; for that organization's events they take precedence over the platform's.
 */
export interface OrganizationModelPricesTable extends ModelPricesTable {
  organization_id: string;
}
