/**
 * The hourly rollup (and the organization's daily one beside it) goes through the same descriptors as the others: ingestion writes it,
 * `verify` finds a row of it that disagrees with the raw events, `verify --repair` (repairRollups)
 * rebuilds it, repricing rebuilds it with the new costs, and the migration that creates it fills
 * it from the events already stored. Runs on both engines.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { sql } from 'kysely';
import { checkRollups } from '../src/modules/rollups/check.ts';
import { repairRollups } from '../src/modules/rollups/repair.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { openStorage } from '../src/storage/storage.ts';
import {
  createTestDatabase,
  DIALECTS,
  forEachDialect,
  ingest,
  makeApiKey,
  makeOrg,
  migrateTestDatabaseTo,
} from './harness.ts';

const MODEL = 'hourly-model';
const HOUR = 3_600_000;
const hourOf = (iso: string) => Date.parse(iso) / HOUR;

forEachDialect('the hourly rollup', (server) => {
  let orgId: string;
  let apiKeyId: string;

  const hourRows = async () => {
    const rows = await server()
      .storage.db.selectFrom('rollup_org_hour')
      .selectAll()
      .where('organization_id', '=', orgId)
      .orderBy('hour')
      .execute();
    return rows.map((r) => [
      Number(r.hour),
      Number(r.requests),
      Number(r.neurons),
      Number(r.synapses),
      BigInt(r.cost_nano),
    ]);
  };

  before(async () => {
    orgId = (await makeOrg(server())).id;
    apiKeyId = (await makeApiKey(server(), orgId)).id;
    const admin = { key: server().adminKey };
    const price = await server().request('PUT', `/v1/pricing/models/${MODEL}`, {
      ...admin,
      body: { neurons_chf_per_million: 1, synapses_chf_per_million: 2, effective_from: '2025-01-01T00:00:00Z' },
    });
    assert.equal(price.status, 200, price.text);
    const event = (id: string, timestamp: string, neurons: number, synapses: number, keyed = true) => ({
      id,
      organization_id: orgId,
      api_key_id: keyed ? apiKeyId : null,
      model: MODEL,
      neurons,
      synapses,
      timestamp,
    });
    await ingest(server(), [
      event('a', '2025-11-30T23:00:00.000Z', 1000, 0),
      event('b', '2025-11-30T23:59:59.999Z', 0, 1000, false),
      event('c', '2025-12-01T00:00:00.000Z', 2000, 1000),
      event('d', '2025-12-01T00:30:00.000Z', 0, 0),
    ]);
  });

  it('ingestion adds each event to its UTC hour, across a month boundary', async () => {
    // 1000 neurons × 1 CHF/1M = 1000000 nano; 1000 synapses × 2 CHF/1M = 2000000 nano.
    assert.deepEqual(await hourRows(), [
      [hourOf('2025-11-30T23:00:00Z'), 2, 1000, 1000, 3_000_000n],
      [hourOf('2025-12-01T00:00:00Z'), 2, 2000, 1000, 4_000_000n],
    ]);
    const days = await server()
      .storage.db.selectFrom('rollup_org_day')
      .select(['day', 'requests', 'cost_nano'])
      .where('organization_id', '=', orgId)
      .orderBy('day')
      .execute();
    assert.deepEqual(
      days.map((d) => [Number(d.day), Number(d.requests), BigInt(d.cost_nano)]),
      [
        [20251130, 2, 3_000_000n],
        [20251201, 2, 4_000_000n],
      ],
    );
    assert.deepEqual((await checkRollups(server().storage.db, orgId)).differences, []);
  });

  it('verify finds an hourly row that disagrees with the events, and the repair rebuilds it', async () => {
    const hour = hourOf('2025-12-01T00:00:00Z');
    await server()
      .storage.db.updateTable('rollup_org_hour')
      .set({ requests: 9n })
      .where('organization_id', '=', orgId)
      .where('hour', '=', hour)
      .execute();
    const found = await checkRollups(server().storage.db, orgId);
    assert.deepEqual(
      found.differences.map((d) => [d.table, d.key, d.month, d.stored?.requests, d.expected?.requests]),
      [['rollup_org_hour', `${orgId}/${hour}`, 202512, 9n, 2n]],
    );
    assert.deepEqual(await repairRollups(server().storage, found.differences), [202512]);
    assert.deepEqual((await checkRollups(server().storage.db, orgId)).differences, []);
    assert.equal((await hourRows())[1]![1], 2);
  });

  it('repricing rebuilds the hourly rollup with the new costs', async () => {
    const admin = { key: server().adminKey };
    const price = await server().request('PUT', `/v1/pricing/models/${MODEL}`, {
      ...admin,
      body: { neurons_chf_per_million: 3, synapses_chf_per_million: 5, effective_from: '2025-12-01T00:00:00Z' },
    });
    assert.equal(price.status, 200, price.text);
    const repriced = await server().request('POST', '/v1/pricing/reprice', { ...admin, body: { model: MODEL } });
    assert.equal(repriced.status, 200, repriced.text);
    assert.deepEqual(repriced.body.months, [202512]);
    // December: 2000 neurons × 3 + 1000 synapses × 5 = 11000000 nano; November unchanged.
    assert.deepEqual(await hourRows(), [
      [hourOf('2025-11-30T23:00:00Z'), 2, 1000, 1000, 3_000_000n],
      [hourOf('2025-12-01T00:00:00Z'), 2, 2000, 1000, 11_000_000n],
    ]);
    assert.deepEqual((await checkRollups(server().storage.db, orgId)).differences, []);
  });
});

for (const dialect of DIALECTS) {
  it(`the migrations fill the hourly and daily rollups from what is already stored [${dialect}]`, async () => {
    const database = await createTestDatabase(dialect);
    const storage = await openStorage(database.config);
    try {
      await migrateTestDatabaseTo(storage, '2026_12_02_0001_organization_month');
      const row = (id: string, at: string, neurons: number) => ({
        organization_id: 'org_m',
        id,
        api_key_id: null,
        model: 'm',
        neurons,
        synapses: 1,
        cost_nano: 5,
        cost_source: 'reported' as const,
        occurred_at: Date.parse(at),
        received_at: Date.parse(at),
      });
      await storage.db
        .insertInto('usage_events')
        .values([
          row('1', '2025-11-03T10:00:00Z', 1),
          row('2', '2025-11-03T10:59:59.999Z', 2),
          row('3', '2025-11-03T11:00:00Z', 4),
        ])
        .execute();
      const keyDay = (key: string, requests: number) => ({
        organization_id: 'org_m',
        day: 20251103,
        api_key_id: key,
        requests,
        neurons: 1,
        synapses: 1,
        cost_nano: 5 * requests,
      });
      await storage.db
        .insertInto('rollup_key_day')
        .values([keyDay('', 1), keyDay('apikey_a', 2)])
        .execute();
      await migrateToLatest(storage);
      const days = await storage.db.selectFrom('rollup_org_day').selectAll().execute();
      assert.deepEqual(
        days.map((d) => [d.organization_id, Number(d.day), Number(d.requests), Number(d.neurons), Number(d.cost_nano)]),
        [['org_m', 20251103, 3, 2, 15]],
      );
      const rows = await storage.db.selectFrom('rollup_org_hour').selectAll().orderBy('hour').execute();
      assert.deepEqual(
        rows.map((r) => [
          r.organization_id,
          Number(r.hour),
          Number(r.requests),
          Number(r.neurons),
          Number(r.cost_nano),
        ]),
        [
          ['org_m', hourOf('2025-11-03T10:00:00Z'), 2, 3, 10],
          ['org_m', hourOf('2025-11-03T11:00:00Z'), 1, 4, 5],
        ],
      );
    } finally {
      await storage.close();
      await database.drop();
    }
  });
}

for (const dialect of DIALECTS) {
  it(`the organization's hourly and daily rows keep their values when stored in key order (SQLite) or covered by their key (PostgreSQL) [${dialect}]`, async () => {
    const database = await createTestDatabase(dialect);
    const storage = await openStorage(database.config);
    try {
      await migrateTestDatabaseTo(storage, '2026_12_04_0201_breakdown_rollups');
      const counters = (n: number) => ({
        requests: n,
        neurons: 10 * n,
        synapses: 20 * n,
        cost_nano: 30 * n,
        cached_neurons: n,
        cache_write_neurons: 2 * n,
        reasoning_synapses: 3 * n,
      });
      await storage.db
        .insertInto('rollup_org_hour')
        .values([
          { organization_id: 'org_b', hour: 500_000, ...counters(1) },
          { organization_id: 'org_a', hour: 500_001, ...counters(2) },
          { organization_id: 'org_a', hour: 500_000, ...counters(3) },
        ])
        .execute();
      await storage.db
        .insertInto('rollup_org_day')
        .values([
          { organization_id: 'org_a', day: 20251104, ...counters(4) },
          { organization_id: 'org_a', day: 20251103, ...counters(5) },
        ])
        .execute();
      await migrateToLatest(storage);
      const plain = (rows: Array<Record<string, unknown>>) =>
        rows.map((row) =>
          Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' ? v : Number(v)])),
        );
      assert.deepEqual(
        plain(
          await storage.db
            .selectFrom('rollup_org_hour')
            .selectAll()
            .orderBy('organization_id')
            .orderBy('hour')
            .execute(),
        ),
        [
          { organization_id: 'org_a', hour: 500_000, ...counters(3) },
          { organization_id: 'org_a', hour: 500_001, ...counters(2) },
          { organization_id: 'org_b', hour: 500_000, ...counters(1) },
        ],
      );
      assert.deepEqual(plain(await storage.db.selectFrom('rollup_org_day').selectAll().orderBy('day').execute()), [
        { organization_id: 'org_a', day: 20251103, ...counters(5) },
        { organization_id: 'org_a', day: 20251104, ...counters(4) },
      ]);
      if (dialect === 'sqlite') {
        const tables = await sql<{ name: string; sql: string }>`
          select name, sql from sqlite_master where name in ('rollup_org_hour', 'rollup_org_day')`.execute(storage.db);
        for (const table of tables.rows) assert.match(table.sql, /without rowid$/, table.name);
      } else {
        // PostgreSQL: the key carries what the heatmap and the trends sum, for index-only scans.
        const keys = await sql<{ table: string; definition: string }>`
          select c.relname as "table", pg_get_indexdef(i.indexrelid) as definition
          from pg_index i join pg_class c on c.oid = i.indrelid
          where i.indisprimary and c.relname in ('rollup_org_hour', 'rollup_org_day')
            and c.relnamespace = current_schema()::regnamespace`.execute(storage.db);
        assert.equal(keys.rows.length, 2);
        for (const key of keys.rows) assert.match(key.definition, /INCLUDE \(neurons, synapses\)$/, key.table);
      }
      // The key still refuses a second row for the same organization and hour.
      await assert.rejects(
        storage.db
          .insertInto('rollup_org_hour')
          .values({ organization_id: 'org_a', hour: 500_000, ...counters(1) })
          .execute(),
      );
    } finally {
      await storage.close();
      await database.drop();
    }
  });
}
