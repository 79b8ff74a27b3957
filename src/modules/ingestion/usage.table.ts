/**
 * Raw usage events, as ingestion stores them. The rollups kept beside them are described in
 * usage/rollups.ts, their table types derived from the descriptors.
 */
import type { ColumnType } from 'kysely';
import type { CostSource } from '../../usage/event.ts';

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
