/**
 * A fingerprint of every table of a test database: per table, the number of rows and the sum
 * of a hash of each row's every column, read in one statement. Comparing two shows any insert,
 * update or delete, which row counts alone would not; summing instead of sorting and joining
 * the rows keeps it cheap as tables grow. The tables are looked up once per database, so a new
 * table is covered without a change here.
 */
import { sql } from 'kysely';
import type { TestServer } from './harness.ts';
import { sqliteConnection } from './harness.ts';

/**
 * Written on every authentication, whatever the answer (at most once a minute per key), so a
 * rejected request may change it by design.
 */
const BOOKKEEPING_COLUMNS = new Set(['last_used_at']);

const statements = new WeakMap<TestServer, Promise<{ tables: string[]; query: string }>>();

export async function tableContents(server: TestServer): Promise<Record<string, string>> {
  let statement = statements.get(server);
  if (!statement) {
    statement = prepare(server);
    statements.set(server, statement);
  }
  const { tables, query } = await statement;
  const { rows } = await sql<Record<string, unknown>>`${sql.raw(query)}`.execute(server.storage.db);
  return Object.fromEntries(tables.map((t, i) => [t, `${rows[0]![`n${i}`]} rows, hash sum ${rows[0]![`h${i}`]}`]));
}

/** FNV-1a, 32 bits: summed over up to 2^31 rows without leaving SQLite's 64-bit integers. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

async function prepare(server: TestServer): Promise<{ tables: string[]; query: string }> {
  const db = server.storage.db;
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const select = (tables: string[], rowText: (table: string, i: number) => string, hash: string) =>
    `select ${tables
      .map(
        (t, i) =>
          `(select count(*) from ${quote(t)}) as n${i}, (select ${hash}(${rowText(t, i)}) from ${quote(t)} t) as h${i}`,
      )
      .join(', ')}`;
  if (server.dialect === 'sqlite') {
    sqliteConnection(server.storage).function('test_row_hash', { deterministic: true }, (text) => fnv1a(String(text)));
    const { rows } = await sql<{ name: string }>`
      select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(db);
    const tables = rows.map((r) => r.name);
    const columns: string[][] = [];
    for (const table of tables) {
      const info = await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(db);
      columns.push(info.rows.map((c) => c.name).filter((c) => !BOOKKEEPING_COLUMNS.has(c)));
    }
    const rowText = (_: string, i: number) => `test_row_hash(json_array(${columns[i]!.map(quote).join(', ')}))`;
    return { tables, query: select(tables, rowText, 'sum') };
  }
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`.execute(db);
  const tables = rows.map((r) => r.table_name);
  const dropped = [...BOOKKEEPING_COLUMNS].map((c) => ` - '${c}'`).join('');
  // hashtextextended gives 64 bits; summed as numeric, which does not overflow.
  const rowText = () => `hashtextextended((to_jsonb(t)${dropped})::text, 0)::numeric`;
  return { tables, query: select(tables, rowText, 'sum') };
}
