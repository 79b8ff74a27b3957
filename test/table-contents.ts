/**
 * The content of every table of a test database, one string per table (rows as JSON, in a
 * fixed order), read in one statement: comparing two of them shows any insert, update or
 * delete, which row counts would not. The tables are looked up once per database, so a new
 * table is covered without a change here.
 */
import { sql } from 'kysely';
import type { TestServer } from './harness.ts';

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
  const { rows } = await sql<Record<string, string | null>>`${sql.raw(query)}`.execute(server.storage.db);
  return Object.fromEntries(tables.map((t, i) => [t, rows[0]![`c${i}`] ?? '']));
}

async function prepare(server: TestServer): Promise<{ tables: string[]; query: string }> {
  const db = server.storage.db;
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  if (server.dialect === 'sqlite') {
    const { rows } = await sql<{ name: string }>`
      select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(db);
    const tables = rows.map((r) => r.name);
    const parts: string[] = [];
    for (const table of tables) {
      const columns = (await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(db)).rows
        .map((c) => c.name)
        .filter((c) => !BOOKKEEPING_COLUMNS.has(c));
      const row = `json_array(${columns.map(quote).join(', ')})`;
      parts.push(`(select group_concat(r, char(10)) from (select ${row} as r from ${quote(table)} order by r))`);
    }
    return { tables, query: `select ${parts.map((p, i) => `${p} as c${i}`).join(', ')}` };
  }
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`.execute(db);
  const tables = rows.map((r) => r.table_name);
  const dropped = [...BOOKKEEPING_COLUMNS].map((c) => ` - '${c}'`).join('');
  const parts = tables.map(
    (table) =>
      `(select string_agg(r, E'\\n' order by r) from (select (to_jsonb(t)${dropped})::text as r from ${quote(table)} t) x)`,
  );
  return { tables, query: `select ${parts.map((p, i) => `${p} as c${i}`).join(', ')}` };
}
