/** Every table, as Kysely types them. Each module owns its tables' types; the rollups' come from their descriptors. */
import type { Kysely, Transaction } from 'kysely';
import type { AdminKeysTable } from '../modules/admin-keys/admin-keys.table.ts';
import type { ApiKeysTable } from '../modules/api-keys/api-keys.table.ts';
import type { UsageEventsTable } from '../modules/ingestion/usage.table.ts';
import type { ReservationsTable } from '../modules/limits/reservations.table.ts';
import type { OrganizationsTable } from '../modules/orgs/orgs.table.ts';
import type { ModelPricesTable, OrganizationModelPricesTable } from '../modules/pricing/pricing.table.ts';
import type { RawEventRetentionTable } from '../modules/retention/retention.table.ts';
import type { Rollup, RollupRowOf } from '../usage/rollups.ts';

/** One table per rollup descriptor. */
export type RollupTables = { [R in Rollup as R['table']]: RollupRowOf<R> };

export interface Database extends RollupTables {
  organizations: OrganizationsTable;
  api_keys: ApiKeysTable;
  admin_keys: AdminKeysTable;
  usage_events: UsageEventsTable;
  model_prices: ModelPricesTable;
  organization_model_prices: OrganizationModelPricesTable;
  reservations: ReservationsTable;
  raw_event_retention: RawEventRetentionTable;
}

/** The database or an open transaction: repository functions take either. */
export type Db = Kysely<Database> | Transaction<Database>;
