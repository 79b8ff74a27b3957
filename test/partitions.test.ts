/**
 * Migrating a database that has raw events to monthly partitions (PostgreSQL; SQLite keeps its
 * table) keeps every row, and ids stay unique across months: a retry carrying another time (an
 * event without a timestamp is stamped on arrival) is still a duplicate. A month without a
 * partition gets one when an event comes for it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { partitionMonths } from '../src/storage/postgres/partitions.ts';
import type { Db } from '../src/storage/schema.ts';
import { openStorage } from '../src/storage/storage.ts';
import type { UsageEvent } from '../src/usage/event.ts';
import { createTestDatabase, DIALECTS, migrateTestDatabaseTo } from './harness.ts';

const BEFORE = '2026_12_02_0001_organization_month';

/** Rows over many months, the earliest and the latest an event may have among them. */
function oldRows(count: number) {
  const times = [Date.UTC(2000, 0, 1), Date.UTC(2016, 11, 31, 23, 59, 59, 999), Date.UTC(2030, 11, 31, 23, 0)];
  return Array.from({ length: count }, (_, i) => ({
    organization_id: `org_${i % 3}`,
    id: `event-${i}`,
    api_key_id: i % 4 === 0 ? null : `apikey_${i % 5}`,
    model: i % 2 ? 'gpt-4o' : 'claude-3-opus',
    neurons: 10 + i,
    synapses: 3 * i,
    cost_nano: 1_000 * i,
    cost_source: i % 7 === 0 ? 'unpriced' : 'reported',
    occurred_at: times[i] ?? Date.UTC(2024, i % 24, 1 + (i % 28), i % 24),
    received_at: Date.UTC(2026, 0, 1) + i,
  }));
}

const LATER_COLUMNS = new Set(['cached_neurons', 'cache_write_neurons', 'reasoning_synapses', 'end_user', 'tags']);

async function allEvents(db: Db) {
  const rows = await db.selectFrom('usage_events').selectAll().orderBy('organization_id').orderBy('id').execute();
  // Column by column, whatever their order in the table; the columns later migrations add (with
  // their defaults) are not this migration's concern.
  return rows.map((row) =>
    JSON.stringify(
      Object.entries(row)
        .filter(([column]) => !LATER_COLUMNS.has(column))
        .sort(([a], [b]) => (a < b ? -1 : 1)),
      (_, v) => (typeof v === 'bigint' ? v.toString() : v),
    ),
  );
}

for (const dialect of DIALECTS) {
  describe(`raw events by month [${dialect}]`, () => {
    it('migrates a database with events keeping every row, then detects retries across months', async () => {
      const database = await createTestDatabase(dialect);
      const storage = await openStorage(database.config);
      try {
        await migrateTestDatabaseTo(storage, BEFORE);
        const rows = oldRows(500);
        await (storage.db as any).insertInto('usage_events').values(rows).execute();
        const before = await allEvents(storage.db);
        assert.equal(before.length, rows.length);

        await migrateToLatest(storage);
        assert.deepEqual(await allEvents(storage.db), before);
        if (dialect === 'postgres') {
          const months = await partitionMonths(storage.db);
          assert.ok(months.includes(200001) && months.includes(201612) && months.includes(203012));
          assert.ok(!months.includes(201701), 'no partition for a month without events');
        }

        await storage.start();
        const event = (id: string, occurredAt: number): UsageEvent => ({
          organizationId: 'org_1',
          id,
          apiKeyId: null,
          model: 'gpt-4o',
          neurons: 1n,
          cachedNeurons: 0n,
          cacheWriteNeurons: 0n,
          synapses: 1n,
          reasoningSynapses: 0n,
          endUser: null,
          tags: {},
          costNano: 5n,
          occurredAt,
        });
        // event-1 is stored in December 2016; a retry stamped now lands in another month.
        const retried = await storage.writeBatch({
          events: [event('event-1', Date.UTC(2026, 5, 3)), event('event-4', Date.UTC(2024, 4, 5))],
          reservations: [],
          receivedAt: Date.now(),
        });
        assert.deepEqual(retried, []);
        // A month without a partition gets one, and a retry of its event within it is known too.
        const fresh = event('fresh', Date.UTC(2019, 6, 14));
        const first = await storage.writeBatch({ events: [fresh], reservations: [], receivedAt: Date.now() });
        assert.deepEqual(
          first.map((e) => e.id),
          ['fresh'],
        );
        const again = await storage.writeBatch({
          events: [{ ...fresh, occurredAt: Date.UTC(2019, 7, 1) }],
          reservations: [],
          receivedAt: Date.now(),
        });
        assert.deepEqual(again, []);
        if (dialect === 'postgres') assert.ok((await partitionMonths(storage.db)).includes(201907));
        const after = await allEvents(storage.db);
        assert.equal(after.length, rows.length + 1);

        // And back down: one table again, every row kept.
        await migrateTestDatabaseTo(storage, BEFORE);
        assert.deepEqual(await allEvents(storage.db), after);
      } finally {
        await storage.close();
        await database.drop();
      }
    });
  });
}

// PostgreSQL only: SQLite has no partitions to create.
describe('partitions created on demand by several processes at once', { skip: !DIALECTS.includes('postgres') }, () => {
  it('stores every event once when three storages bring events of new months together', async () => {
    const database = await createTestDatabase('postgres');
    const storages = await Promise.all([0, 1, 2].map(() => openStorage(database.config)));
    try {
      await migrateToLatest(storages[0]!);
      const event = (id: string, month: number): UsageEvent => ({
        organizationId: 'org_c',
        id,
        apiKeyId: null,
        model: 'gpt-4o',
        neurons: 1n,
        cachedNeurons: 0n,
        cacheWriteNeurons: 0n,
        synapses: 1n,
        reasoningSynapses: 0n,
        endUser: null,
        tags: {},
        costNano: 1n,
        occurredAt: Date.UTC(2021, month, 2),
      });
      // Each storage writes batches spanning the same six months, none of which has a partition;
      // half the ids are shared, as retries racing in other replicas would be.
      const written = await Promise.all(
        storages.map((storage, s) =>
          Promise.all(
            [0, 1, 2].map((b) =>
              storage.writeBatch({
                events: [0, 1, 2, 3, 4, 5].flatMap((m) => [
                  event(`shared-${b}-${m}`, m),
                  event(`own-${s}-${b}-${m}`, m),
                ]),
                reservations: [],
                receivedAt: Date.now(),
              }),
            ),
          ),
        ),
      );
      const accepted = written.flat(2).map((e) => e.id);
      assert.equal(accepted.length, new Set(accepted).size, 'no event accepted twice');
      assert.equal(accepted.length, 3 * 6 + 3 * 3 * 6);
      assert.deepEqual(
        (await partitionMonths(storages[0]!.db)).filter((m) => m < 202200),
        [202101, 202102, 202103, 202104, 202105, 202106],
      );
      assert.equal((await allEvents(storages[0]!.db)).length, accepted.length);
    } finally {
      for (const storage of storages) await storage.close();
      await database.drop();
    }
  });
});

describe('retention in several processes at once', { skip: !DIALECTS.includes('postgres') }, () => {
  it('lets one process drop partitions while the others leave it to that one', async () => {
    const database = await createTestDatabase('postgres');
    const [first, second] = await Promise.all([await openStorage(database.config), await openStorage(database.config)]);
    try {
      await migrateToLatest(first);
      await first.prepareEventMonths([202101, 202102, 202103]);
      const horizon = Date.UTC(2021, 2, 1);
      let releaseLock: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        releaseLock = resolve;
      });
      let locked: () => void = () => {};
      const isLocked = new Promise<void>((resolve) => {
        locked = resolve;
      });
      // Another process in the middle of its run: it holds the retention lock of the schema.
      const other = first.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext(current_schema() || ':raw event retention'))`.execute(trx);
        locked();
        await held;
      });
      await isLocked;
      assert.equal(await second.removeEventsBefore(horizon), undefined);
      assert.deepEqual(await partitionMonths(second.db), [202101, 202102, 202103]);
      releaseLock();
      await other;
      assert.deepEqual(await second.removeEventsBefore(horizon), { months: [202101, 202102] });
      assert.deepEqual(await partitionMonths(second.db), [202103]);
    } finally {
      await first.close();
      await second.close();
      await database.drop();
    }
  });
});
