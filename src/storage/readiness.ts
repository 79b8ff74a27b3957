/**
 * Whether the database can serve: reachable, migrated, every table and column in place and
 * readable, and writable. Load balancers poll this, so it writes nothing, grows nothing and
 * waits for no lock: two statements on PostgreSQL; on SQLite a few local statements and
 * `access` calls.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import type { Storage } from './database.ts';
import { pendingMigrations } from './migrate.ts';
import type { Database } from './schema.ts';

export type ReadinessProblem = 'unreachable' | 'migrations_pending' | 'schema_incomplete' | 'read_only' | 'corrupt';

/** Every column of every table as the migrations leave them; the compiler keeps the list complete. */
type Columns = { [T in keyof Database]: Record<keyof Database[T] & string, true> };
const COUNTERS = { requests: true, neurons: true, synapses: true, cost_nano: true } as const;
const COLUMNS: Columns = {
  organizations: { id: true, name: true, created_at: true, monthly_limit_nano: true, api_keys_limit_nano: true },
  api_keys: {
    organization_id: true,
    id: true,
    name: true,
    key_prefix: true,
    key_hash: true,
    scopes: true,
    monthly_limit_nano: true,
    state: true,
    expires_at: true,
    created_at: true,
    last_used_at: true,
    deleted_at: true,
  },
  admin_keys: {
    id: true,
    name: true,
    key_prefix: true,
    key_hash: true,
    state: true,
    created_at: true,
    last_used_at: true,
    deleted_at: true,
  },
  usage_events: {
    organization_id: true,
    id: true,
    api_key_id: true,
    model: true,
    neurons: true,
    synapses: true,
    cost_nano: true,
    cost_source: true,
    occurred_at: true,
    received_at: true,
  },
  rollup_org_month: { organization_id: true, month: true, ...COUNTERS },
  rollup_org_model_month: { organization_id: true, month: true, model: true, ...COUNTERS },
  rollup_key_model_month: { organization_id: true, month: true, api_key_id: true, model: true, ...COUNTERS },
  rollup_key_day: { organization_id: true, day: true, api_key_id: true, ...COUNTERS },
  model_prices: {
    model: true,
    effective_from: true,
    neurons_pico_per_million: true,
    synapses_pico_per_million: true,
    created_at: true,
  },
  reservations: {
    organization_id: true,
    id: true,
    api_key_id: true,
    amount_nano: true,
    created_at: true,
    expires_at: true,
    settled_at: true,
  },
};

/** What keeps the database from serving, or undefined when nothing does. */
export async function readinessProblem(storage: Storage): Promise<ReadinessProblem | undefined> {
  try {
    if ((await pendingMigrations(storage.db)).length > 0) return 'migrations_pending';
  } catch (error) {
    return isUndefinedTable(error) ? 'migrations_pending' : classify(error);
  }
  try {
    return storage.dialect === 'sqlite' ? await sqliteProblem(storage) : await postgresProblem(storage);
  } catch (error) {
    return classify(error);
  }
}

/**
 * One scalar subquery per table naming every column. `limit 1` makes SQLite read each table's
 * first page, where a corrupt file shows; PostgreSQL (`where false`) checks names and rights only,
 * as it guards its own pages and a bloated table's first live row can be far in.
 */
function tablesQuery(rowFilter: 'limit 1' | 'where false') {
  const probes = Object.entries(COLUMNS).map(
    ([table, columns]) =>
      sql`(select 1 from (select ${sql.join(Object.keys(columns).map((c) => sql.ref(c)))} from ${sql.table(table)} ${sql.raw(rowFilter)}) as t)`,
  );
  return sql.join(probes);
}

/**
 * PostgreSQL is read-only for this connection when the role, database or session sets
 * default_transaction_read_only, or the server is a standby: transaction_read_only says so.
 */
async function postgresProblem(storage: Storage): Promise<ReadinessProblem | undefined> {
  const { rows } = await sql<{ read_only: string }>`
    select current_setting('transaction_read_only') as read_only, ${tablesQuery('where false')}`.execute(storage.db);
  return rows[0]?.read_only === 'on' ? 'read_only' : undefined;
}

/**
 * SQLite: the tables' first pages, then a write that changes nothing (no journal, no growth),
 * refused when the connection is read-only. It does not wait for the write lock: SQLITE_BUSY
 * means another connection (ingestion's writer) is writing, so the file takes writes. Last,
 * the file, its write-ahead log and their folder must be writable by this process: a file
 * made read-only under a running server still takes writes into the log, but can never be
 * checkpointed, nor opened for writing again.
 */
async function sqliteProblem(storage: Storage): Promise<ReadinessProblem | undefined> {
  await sql`select ${tablesQuery('limit 1')}`.execute(storage.db);
  await storage.db.connection().execute(async (connection) => {
    const { rows } = await sql<{ timeout: number | bigint }>`select timeout from pragma_busy_timeout`.execute(
      connection,
    );
    const busyTimeout = Number(rows[0]?.timeout ?? 0);
    await sql`pragma busy_timeout = 0`.execute(connection);
    try {
      await sql`update organizations set name = name where 0 = 1`.execute(connection);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY') throw error;
    } finally {
      await sql.raw(`pragma busy_timeout = ${busyTimeout}`).execute(connection);
    }
  });
  const file = storage.sqlite?.name;
  if (!file || file === ':memory:') return undefined;
  for (const target of [file, `${file}-wal`, path.dirname(path.resolve(file))]) {
    await fs.access(target, fs.constants.W_OK).catch((error: { code?: string }) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  return undefined;
}

function isUndefinedTable(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === '42P01' || /no such table/.test(String(message));
}

function classify(error: unknown): ReadinessProblem {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = String(code ?? '');
  // 25006: read_only_sql_transaction. EACCES, EPERM, EROFS: the file or folder is not writable.
  if (text.startsWith('SQLITE_READONLY') || ['25006', 'EACCES', 'EPERM', 'EROFS'].includes(text)) return 'read_only';
  if (text.startsWith('SQLITE_CORRUPT') || text === 'SQLITE_NOTADB') return 'corrupt';
  // 42P01, 42703: undefined table, undefined column.
  if (text === '42P01' || text === '42703' || /no such (table|column)/.test(String(message))) {
    return 'schema_incomplete';
  }
  return 'unreachable';
}
