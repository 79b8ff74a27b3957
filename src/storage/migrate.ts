/** Schema migrations, listed explicitly in order and applied at start and by `freddy-analytics migrate`. */
import { type Kysely, type Migration, type MigrationResultSet, Migrator, sql } from 'kysely';
import type { DialectName } from './dialect.ts';
import * as initial from './migrations/2026_11_23_0001_initial.ts';
import * as pricing from './migrations/2026_11_23_0002_pricing.ts';
import * as reservations from './migrations/2026_11_23_0003_reservations.ts';
import * as openReservations from './migrations/2026_11_23_0004_open_reservations.ts';
import * as organizationMonth from './migrations/2026_12_02_0001_organization_month.ts';
import type { Database } from './schema.ts';

function migrations(dialect: DialectName): Record<string, Migration> {
  return {
    '2026_11_23_0001_initial': { up: (db) => initial.up(db, dialect), down: initial.down },
    '2026_11_23_0002_pricing': { up: (db) => pricing.up(db, dialect), down: pricing.down },
    '2026_11_23_0003_reservations': { up: (db) => reservations.up(db, dialect), down: reservations.down },
    '2026_11_23_0004_open_reservations': { up: (db) => openReservations.up(db, dialect), down: openReservations.down },
    '2026_12_02_0001_organization_month': {
      up: (db) => organizationMonth.up(db, dialect),
      down: organizationMonth.down,
    },
  };
}

export async function migrator(db: Kysely<Database>, dialect: DialectName): Promise<Migrator> {
  // Kysely looks for its lock table in every schema unless told which one; with several
  // schemas in one PostgreSQL database (one per tenant or test) it must be ours.
  const schema =
    dialect === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined;
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations(dialect) },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}

/** Brings the schema up to date; throws with the failing migration's name on error. */
export async function migrateToLatest(db: Kysely<Database>, dialect: DialectName): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    const { error, results }: MigrationResultSet = await (await migrator(db, dialect)).migrateToLatest();
    if (!error) return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    // Kysely's migrator finds its own table by listing the tables of every schema, a query that
    // fails (invalid_schema_name) when another schema of the database is dropped meanwhile: a
    // tenant's or a test's. Nothing was migrated then, and listing again succeeds.
    if ((error as { code?: string }).code === '3F000' && attempt < 10) {
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
      continue;
    }
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** True when every known migration has been applied (used by /readyz). */
export async function isSchemaCurrent(db: Kysely<Database>, dialect: DialectName): Promise<boolean> {
  const all = await (await migrator(db, dialect)).getMigrations();
  return all.every((m) => m.executedAt !== undefined);
}
