/** Schema migrations, listed explicitly in order and applied at start and by `freddy-analytics migrate`. */
import { type Kysely, type Migration, type MigrationResultSet, Migrator } from 'kysely';
import type { DialectName } from './dialect.ts';
import * as initial from './migrations/2026_11_23_0001_initial.ts';
import * as pricing from './migrations/2026_11_23_0002_pricing.ts';
import type { Database } from './schema.ts';

function migrations(dialect: DialectName): Record<string, Migration> {
  return {
    '2026_11_23_0001_initial': { up: (db) => initial.up(db, dialect), down: initial.down },
    '2026_11_23_0002_pricing': { up: (db) => pricing.up(db, dialect), down: pricing.down },
  };
}

export function migrator(db: Kysely<Database>, dialect: DialectName): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations(dialect) } });
}

/** Brings the schema up to date; throws with the failing migration's name on error. */
export async function migrateToLatest(db: Kysely<Database>, dialect: DialectName): Promise<string[]> {
  const { error, results }: MigrationResultSet = await migrator(db, dialect).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** True when every known migration has been applied (used by /readyz). */
export async function isSchemaCurrent(db: Kysely<Database>, dialect: DialectName): Promise<boolean> {
  const all = await migrator(db, dialect).getMigrations();
  return all.every((m) => m.executedAt !== undefined);
}
