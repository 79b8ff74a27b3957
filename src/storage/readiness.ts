/**
 * Whether the database can serve: reachable, migrated, every table and column in place and
 * readable, and writable. Load balancers poll this, so it writes nothing, grows nothing and
 * waits for no lock: two statements on PostgreSQL; on SQLite a few local statements and
 * `access` calls.
 */
import { sql } from 'kysely';
import { pendingMigrations } from './migrate.ts';
import type { Database } from './schema.ts';
import type { Storage } from './storage.ts';

export type ReadinessProblem = 'unreachable' | 'migrations_pending' | 'schema_incomplete' | 'read_only' | 'corrupt';

/** Every column of every table as the migrations leave them; the compiler keeps the list complete. */
type Columns = { [T in keyof Database]: Record<keyof Database[T] & string, true> };
const COUNTERS = {
  requests: true,
  neurons: true,
  synapses: true,
  cost_nano: true,
  cached_neurons: true,
  cache_write_neurons: true,
  reasoning_synapses: true,
} as const;
const TAG_COLUMNS = { tag_key: true, tag_value: true } as const;
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
    cached_neurons: true,
    cache_write_neurons: true,
    reasoning_synapses: true,
    end_user: true,
    tags: true,
  },
  rollup_org_month: { organization_id: true, month: true, ...COUNTERS },
  rollup_org_model_month: { organization_id: true, month: true, model: true, ...COUNTERS },
  rollup_key_model_month: { organization_id: true, month: true, api_key_id: true, model: true, ...COUNTERS },
  rollup_key_day: { organization_id: true, day: true, api_key_id: true, ...COUNTERS },
  rollup_org_hour: { organization_id: true, hour: true, ...COUNTERS },
  rollup_org_day: { organization_id: true, day: true, ...COUNTERS },
  rollup_model_key_hour: { organization_id: true, hour: true, model: true, api_key_id: true, ...COUNTERS },
  rollup_model_key_day: { organization_id: true, day: true, model: true, api_key_id: true, ...COUNTERS },
  rollup_model_key_month: { organization_id: true, month: true, model: true, api_key_id: true, ...COUNTERS },
  rollup_model_user_hour: { organization_id: true, hour: true, model: true, end_user: true, ...COUNTERS },
  rollup_model_user_day: { organization_id: true, day: true, model: true, end_user: true, ...COUNTERS },
  rollup_model_user_month: { organization_id: true, month: true, model: true, end_user: true, ...COUNTERS },
  rollup_model_tag_hour: { organization_id: true, hour: true, model: true, ...TAG_COLUMNS, ...COUNTERS },
  rollup_model_tag_day: { organization_id: true, day: true, model: true, ...TAG_COLUMNS, ...COUNTERS },
  rollup_model_tag_month: { organization_id: true, month: true, model: true, ...TAG_COLUMNS, ...COUNTERS },
  rollup_org_model_day: { organization_id: true, day: true, model: true, ...COUNTERS },
  rollup_user_month: { organization_id: true, month: true, end_user: true, ...COUNTERS },
  rollup_tag_month: { organization_id: true, month: true, ...TAG_COLUMNS, ...COUNTERS },
  rollup_tag_key_month: { organization_id: true, month: true, tag_key: true, ...COUNTERS },
  model_prices: {
    model: true,
    effective_from: true,
    neurons_pico_per_million: true,
    synapses_pico_per_million: true,
    cached_neurons_pico_per_million: true,
    cache_write_neurons_pico_per_million: true,
    created_at: true,
  },
  organization_model_prices: {
    organization_id: true,
    model: true,
    effective_from: true,
    neurons_pico_per_million: true,
    synapses_pico_per_million: true,
    cached_neurons_pico_per_million: true,
    cache_write_neurons_pico_per_million: true,
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
  raw_event_retention: { id: true, removed_before: true },
};

/** What keeps the database from serving, or undefined when nothing does. */
export async function readinessProblem(storage: Storage): Promise<ReadinessProblem | undefined> {
  try {
    if ((await pendingMigrations(storage.db)).length > 0) return 'migrations_pending';
  } catch (error) {
    return isUndefinedTable(error) ? 'migrations_pending' : classifyProblem(error);
  }
  try {
    return await storage.writableProblem();
  } catch (error) {
    return classifyProblem(error);
  }
}

/**
 * One scalar subquery per table naming every column. `limit 1` makes SQLite read each table's
 * first page, where a corrupt file shows; PostgreSQL (`where false`) checks names and rights only,
 * as it guards its own pages and a bloated table's first live row can be far in.
 */
export function tablesQuery(rowFilter: 'limit 1' | 'where false') {
  const probes = Object.entries(COLUMNS).map(
    ([table, columns]) =>
      sql`(select 1 from (select ${sql.join(Object.keys(columns).map((c) => sql.ref(c)))} from ${sql.table(table)} ${sql.raw(rowFilter)}) as t)`,
  );
  return sql.join(probes);
}

function isUndefinedTable(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === '42P01' || /no such table/.test(String(message));
}

export function classifyProblem(error: unknown): ReadinessProblem {
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
