import type { Kysely, Transaction } from 'kysely';
import type { AdminKeysTable } from '../modules/admin-keys/admin-keys.table.ts';
import type { ApiKeysTable } from '../modules/api-keys/api-keys.table.ts';
import type {
  RollupKeyDayTable,
  RollupKeyModelMonthTable,
  RollupOrgModelMonthTable,
  RollupOrgMonthTable,
  UsageEventsTable,
} from '../modules/ingestion/usage.table.ts';
import type { ReservationsTable } from '../modules/limits/reservations.table.ts';
import type { OrganizationsTable } from '../modules/orgs/orgs.table.ts';
import type { ModelPricesTable } from '../modules/pricing/pricing.table.ts';

export interface Database {
  organizations: OrganizationsTable;
  api_keys: ApiKeysTable;
  admin_keys: AdminKeysTable;
  usage_events: UsageEventsTable;
  rollup_org_month: RollupOrgMonthTable;
  rollup_org_model_month: RollupOrgModelMonthTable;
  rollup_key_model_month: RollupKeyModelMonthTable;
  rollup_key_day: RollupKeyDayTable;
  model_prices: ModelPricesTable;
  reservations: ReservationsTable;
}

/** The database or an open transaction: repository functions take either. */
export type Db = Kysely<Database> | Transaction<Database>;
