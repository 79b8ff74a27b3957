/**
 * A fingerprint of every table of a test database: per table, the number of rows and the sum
 * of a hash of each row's every column, read in one statement. Comparing two shows any insert,
 * update or delete, which row counts alone would not; summing instead of sorting and joining
 * the rows keeps it cheap as tables grow. The tables are looked up once per database, so a new
 * table is covered without a change here.
 */
import { sql } from 'kysely';
import pg from 'pg';
import type { TestServer } from './harness.ts';
import { POSTGRES_URL, sqliteConnection } from './harness.ts';

/**
 * Written on every authentication, whatever the answer (at most once a minute per key), so a
 * rejected request may change it by design.
 */
const BOOKKEEPING_COLUMNS = new Set(['last_used_at']);

interface Fingerprint {
  tables: string[];
  read(): Promise<Record<string, unknown>>;
  /** The last contents read, and the storage's change marker just before they were. */
  last?: { marker: string; contents: Record<string, string> };
}

const fingerprints = new WeakMap<TestServer, Promise<Fingerprint>>();

export async function tableContents(server: TestServer): Promise<Record<string, string>> {
  let fingerprint = fingerprints.get(server);
  if (!fingerprint) {
    fingerprint = prepare(server);
    fingerprints.set(server, fingerprint);
  }
  const prepared = await fingerprint;
  // The marker moves with every commit (the read memo relies on it too): while it stays, no
  // table has changed, and the last contents read are the contents.
  const marker = await server.storage.changeMarker();
  if (prepared.last?.marker === marker) return prepared.last.contents;
  const row = await prepared.read();
  const contents = Object.fromEntries(
    prepared.tables.map((t, i) => [t, `${row[`n${i}`]} rows, hash sum ${row[`h${i}`]}`]),
  );
  prepared.last = { marker, contents };
  return contents;
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

async function prepare(server: TestServer): Promise<Fingerprint> {
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
    const query = sql.raw(select(tables, rowText, 'sum'));
    return { tables, read: async () => (await sql<Record<string, unknown>>`${query}`.execute(db)).rows[0]! };
  }
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`.execute(db);
  const tables = rows.map((r) => r.table_name);
  const dropped = [...BOOKKEEPING_COLUMNS].map((c) => ` - '${c}'`).join('');
  // hashtextextended gives 64 bits; summed as numeric, which does not overflow.
  const rowText = () => `hashtextextended((to_jsonb(t)${dropped})::text, 0)::numeric`;
  // A statement of 50-odd subqueries takes longer to plan than to run: prepared once, on a
  // connection of its own (straight to the server, not through a pooler that would not keep
  // it), it reads in a third of the time. The suites that read it after every request rely on that.
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  server.onClose(() => client.end());
  const schema = server.database.config.kind === 'postgres' ? server.database.config.schema : undefined;
  if (schema) await client.query(`set search_path to "${schema}"`);
  const text = select(tables, rowText, 'sum');
  return { tables, read: async () => (await client.query({ name: 'table_contents', text })).rows[0] };
}
