/** Schema migrations, listed explicitly in order and applied at start and by `freddy-analytics migrate`. */
import { type Kysely, type Migration, type MigrationResultSet, Migrator, sql } from 'kysely';
import { databaseUnavailable } from './failures.ts';
import * as initial from './migrations/2026_11_23_0001_initial.ts';
import * as pricing from './migrations/2026_11_23_0002_pricing.ts';
import * as reservations from './migrations/2026_11_23_0003_reservations.ts';
import * as openReservations from './migrations/2026_11_23_0004_open_reservations.ts';
import * as adminKeyState from './migrations/2026_12_01_0001_admin_key_state.ts';
import * as apiKeyDeletedAt from './migrations/2026_12_01_0002_api_key_deleted_at.ts';
import * as organizationMonth from './migrations/2026_12_02_0001_organization_month.ts';
import * as organizationHour from './migrations/2026_12_03_0101_organization_hour.ts';
import * as organizationDay from './migrations/2026_12_03_0102_organization_day.ts';
import * as rawEventRetention from './migrations/2026_12_03_0201_raw_event_retention.ts';
import * as usageEventsByMonth from './migrations/2026_12_03_0202_usage_events_by_month.ts';
import * as eventParts from './migrations/2026_12_04_0101_event_parts.ts';
import * as cacheAndOrganizationPrices from './migrations/2026_12_04_0102_cache_and_organization_prices.ts';
import * as breakdownRollups from './migrations/2026_12_04_0201_breakdown_rollups.ts';
import * as clusteredOrganizationSeries from './migrations/2026_12_05_0101_clustered_organization_series.ts';
import * as breakdownRankedRollups from './migrations/2026_12_05_0201_breakdown_ranked_rollups.ts';
import * as coveringOrganizationSeries from './migrations/2026_12_06_0101_covering_organization_series.ts';
import * as inlinedTagEntries from './migrations/2026_12_07_0101_inlined_tag_entries.ts';
import type { Database } from './schema.ts';
import type { EngineName, Storage } from './storage.ts';

/** Every migration has this shape: both told the engine (most ignore it). */
interface Step {
  up(db: Parameters<Migration['up']>[0], engine: EngineName): Promise<void>;
  down(db: Parameters<Migration['up']>[0], engine: EngineName): Promise<void>;
}

const STEPS: Record<string, Step> = {
  '2026_11_23_0001_initial': initial,
  '2026_11_23_0002_pricing': pricing,
  '2026_11_23_0003_reservations': reservations,
  '2026_11_23_0004_open_reservations': openReservations,
  '2026_12_01_0001_admin_key_state': adminKeyState,
  '2026_12_01_0002_api_key_deleted_at': apiKeyDeletedAt,
  '2026_12_02_0001_organization_month': organizationMonth,
  '2026_12_03_0101_organization_hour': organizationHour,
  '2026_12_03_0102_organization_day': organizationDay,
  '2026_12_03_0201_raw_event_retention': rawEventRetention,
  '2026_12_03_0202_usage_events_by_month': usageEventsByMonth,
  '2026_12_04_0101_event_parts': eventParts,
  '2026_12_04_0102_cache_and_organization_prices': cacheAndOrganizationPrices,
  '2026_12_04_0201_breakdown_rollups': breakdownRollups,
  '2026_12_05_0101_clustered_organization_series': clusteredOrganizationSeries,
  '2026_12_05_0201_breakdown_ranked_rollups': breakdownRankedRollups,
  '2026_12_06_0101_covering_organization_series': coveringOrganizationSeries,
  '2026_12_07_0101_inlined_tag_entries': inlinedTagEntries,
};

/** Every migration's name, in order. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(STEPS);

function migrations(engine: EngineName): Record<string, Migration> {
  return Object.fromEntries(
    Object.entries(STEPS).map(([name, step]) => [
      name,
      { up: (db) => step.up(db, engine), down: (db) => step.down(db, engine) },
    ]),
  );
}

type Migrating = Pick<Storage, 'engine' | 'prepareMigrations'>;

/** Kysely's migrator on `db`, keeping its table in the storage's own schema (created if missing). */
export async function migrator(storage: Migrating, db: Kysely<Database>): Promise<Migrator> {
  const schema = await storage.prepareMigrations();
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations(storage.engine) },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}

/**
 * Brings the schema up to date, without the bound on statements (a migration of a large
 * database may rightly take longer than any request); throws with the failing migration's name.
 */
export async function migrateToLatest(storage: Migrating & Pick<Storage, 'withoutTimeout'>): Promise<string[]> {
  return storage.withoutTimeout((db) => migrateOn(storage, db));
}

async function migrateOn(storage: Migrating, db: Kysely<Database>): Promise<string[]> {
  // Most starts find the schema up to date: one query says so, where the migrator would first
  // introspect every table. Anything else (no table yet, a migration pending, or one this
  // version does not know, which the migrator refuses) goes through the migrator.
  const applied = await appliedMigrations(db).catch(() => undefined);
  if (applied && applied.length === MIGRATION_NAMES.length && applied.every((name) => STEPS[name])) return [];
  for (let attempt = 1; ; attempt++) {
    const { error, results }: MigrationResultSet = await (await migrator(storage, db)).migrateToLatest();
    if (!error) return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    // The more tables the database holds, the longer the listing and the likelier a drop
    // during it: try for a while (about 5 s), not a fixed few times.
    const ranNone = !results?.some((r) => r.status !== 'NotExecuted');
    if (listingRaced(error) && ranNone && attempt < 100) {
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 90));
      continue;
    }
    // A lost connection or a timeout is no migration's fault; callers say so in their own words.
    if (databaseUnavailable(error)) throw error;
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Whether the migrator failed while it listed the tables of the database, before migrating
 * anything. Kysely's migrator finds its own table by listing the tables of every schema, and
 * that query fails when another schema (a tenant's, a test's) is dropped or created meanwhile:
 * invalid_schema_name, or, from its pg_get_serial_sequence call on a table that went away,
 * undefined_table or undefined_column. Listing again succeeds.
 */
export function listingRaced(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === '3F000' || code === '42P01' || code === '42703';
}

/**
 * The migrations not applied yet, read straight from Kysely's table (one cheap query, unlike
 * the migrator's own listing, which introspects every table of the database). Throws when
 * that table does not exist.
 */
export async function pendingMigrations(db: Kysely<Database>): Promise<string[]> {
  const applied = new Set(await appliedMigrations(db));
  return MIGRATION_NAMES.filter((name) => !applied.has(name));
}

async function appliedMigrations(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
  return rows.map((row) => row.name);
}
