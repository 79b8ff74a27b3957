/**
 * Raw usage events, as ingestion stores them. The rollups kept beside them are described in
 * usage/rollups.ts, their table types derived from the descriptors.
 */
import type { ColumnType } from 'kysely';
import type { CostSource } from '../../usage/event.ts';

type Int64 = ColumnType<bigint, bigint | number, bigint | number>;
type DefaultedInt64 = ColumnType<bigint, bigint | number | undefined, bigint | number>;

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
  /** The parts of `neurons` read from and written to the provider's prompt cache. */
  cached_neurons: DefaultedInt64;
  cache_write_neurons: DefaultedInt64;
  /** The part of `synapses` spent on reasoning. */
  reasoning_synapses: DefaultedInt64;
  /** The organization's own user or customer who caused the request; null when not reported. */
  end_user: ColumnType<string | null, string | null | undefined, string | null>;
  /** Canonical JSON of the labels (keys sorted); null when the event has none. */
  tags: ColumnType<string | null, string | null | undefined, string | null>;
}
