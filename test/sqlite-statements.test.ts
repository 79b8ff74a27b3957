/**
 * SQLite: the statements the query layer keeps and the rows it makes from their values (see
 * storage/sqlite/engine.ts), through Kysely as every read goes, against a real database file.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { openStorage, type Storage } from '../src/storage/storage.ts';
import { createTestDatabase, type TestDatabase } from './harness.ts';

let database: TestDatabase;
let storage: Storage;
const db = () => storage.db as unknown as Kysely<any>;
const all = async (query: string) => (await sql.raw(query).execute(db())).rows;

before(async () => {
  database = await createTestDatabase('sqlite');
  storage = await openStorage(database.config);
  await sql`create table shapes (id integer primary key, name text, weight real, data blob)`.execute(db());
  await sql`insert into shapes values (1, 'one', 1.5, x'00ff'), (2, null, null, null)`.execute(db());
});

after(async () => {
  await storage.close();
  await database.drop();
});

it('makes each row an object of its columns, values as the driver reads them', async () => {
  assert.deepEqual(await all('select * from shapes order by id'), [
    { id: 1n, name: 'one', weight: 1.5, data: Buffer.from([0, 255]) },
    { id: 2n, name: null, weight: null, data: null },
  ]);
  assert.deepEqual(await all('select 1 as x, 2 as x, 3 as "we""ird"'), [{ x: 2n, 'we"ird': 3n }]);
  assert.deepEqual(await all('select * from shapes where id > 5'), []);
});

it('streams rows as objects too', async () => {
  const names: unknown[] = [];
  for await (const row of db().selectFrom('shapes').select(['id', 'name']).orderBy('id').stream()) names.push(row);
  assert.deepEqual(names, [
    { id: 1n, name: 'one' },
    { id: 2n, name: null },
  ]);
});

it('reads the columns a schema change added or dropped, made by this connection or another', async () => {
  const query = 'select * from shapes where id = 1';
  assert.deepEqual(Object.keys((await all(query))[0]!), ['id', 'name', 'weight', 'data']);

  const other = new SQLite((database.config as { path: string }).path);
  try {
    other.exec("alter table shapes add column colour text default 'red'");
  } finally {
    other.close();
  }
  assert.deepEqual(await all(query), [
    { id: 1n, name: 'one', weight: 1.5, data: Buffer.from([0, 255]), colour: 'red' },
  ]);

  await sql`alter table shapes drop column weight`.execute(db());
  assert.deepEqual(await all(query), [{ id: 1n, name: 'one', data: Buffer.from([0, 255]), colour: 'red' }]);
  // As many columns as before, one of them named anew.
  await sql`alter table shapes rename column name to label`.execute(db());
  assert.deepEqual(await all(query), [{ id: 1n, label: 'one', data: Buffer.from([0, 255]), colour: 'red' }]);
});
