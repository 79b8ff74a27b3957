/**
 * Ingestion and the server's other writes at the same time. On SQLite, ingestion commits from a
 * writer thread with a connection of its own while budget checks, limit changes and repricing
 * write on the server's connection; none of them may fail for it, each kind of write is shown
 * to have run while ingestion ran, repricing reports exactly the events it had to change, and
 * the rollups equal the test's own sums of what it sent, priced by the test's own arithmetic.
 */

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { DEFAULT_INGEST_CONCURRENCY } from '../src/config.ts';
import { ingestUsage } from '../src/modules/ingestion/ingestion.service.ts';
import { createOrganization } from '../src/modules/orgs/orgs.service.ts';
import { setPrice } from '../src/modules/pricing/pricing.service.ts';
import { reprice } from '../src/modules/pricing/reprice.ts';
import { checkRollups } from '../src/modules/rollups/check.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { PostgresBatchWriter } from '../src/storage/postgres/batch-writer.ts';
import type { Db } from '../src/storage/schema.ts';
import { connectSqlite } from '../src/storage/sqlite/connection.ts';
import { SqliteWriterThread } from '../src/storage/sqlite/writer-thread-client.ts';
import { openStorage, type Storage } from '../src/storage/storage.ts';
import { monthKeyOf } from '../src/time/calendar.ts';
import type { UsageEvent } from '../src/usage/event.ts';
import { contextOf, createTestDatabase, DIALECTS, forEachDialect, ingest, makeApiKey, makeOrg } from './harness.ts';

const CLIENTS = 4;
const BATCHES_PER_CLIENT = 6;
const BATCH = 250;
/** Priced events written before the concurrent phase, at times that only repricing rewrites. */
const REPRICED = 200;
const MODEL = 'concurrent-model';
const PICO_PER_CHF = 1_000_000_000_000n;

/** Nano-CHF of an event at prices in pico-CHF per million units: rounded once, half to even. */
function costNano(neurons: number, synapses: number, price: { neuronsPico: bigint; synapsesPico: bigint }): bigint {
  const exact = BigInt(neurons) * price.neuronsPico + BigInt(synapses) * price.synapsesPico;
  const [quotient, remainder] = [exact / 1_000_000_000n, exact % 1_000_000_000n];
  if (remainder * 2n > 1_000_000_000n) return quotient + 1n;
  if (remainder * 2n === 1_000_000_000n) return quotient % 2n === 0n ? quotient : quotient + 1n;
  return quotient;
}

interface Span {
  kind: 'limits' | 'authorize' | 'reprice';
  start: number;
  end: number;
}

forEachDialect('ingestion alongside other writes', (server) => {
  it('answers every batch, budget check, limit change and repricing, and the rollups equal the events', async () => {
    const orgId = (await makeOrg(server())).id;
    const key = await makeApiKey(server(), orgId);
    const base = Date.now() - 3_600_000;
    // Events of the concurrent phase come before `repricedFrom`; repricing rewrites only those after.
    const repricedFrom = base + 600_000;
    const initialPrice = { neuronsPico: 2n * PICO_PER_CHF + 500_000_000_000n, synapsesPico: 10n * PICO_PER_CHF };
    const roundPrice = (round: number) => ({
      neuronsPico: BigInt(3 + round) * PICO_PER_CHF + 123_456n,
      synapsesPico: BigInt(11 + round) * PICO_PER_CHF,
    });
    await setPrice(server().storage.db, { model: MODEL, effectiveFrom: base - 1, ...initialPrice }, Date.now());

    const expected = { requests: 0n, neurons: 0n, synapses: 0n };
    const sent = (events: Array<{ neurons: number; synapses: number }>) => {
      for (const e of events) {
        expected.requests++;
        expected.neurons += BigInt(e.neurons);
        expected.synapses += BigInt(e.synapses);
      }
    };
    const repriced = Array.from({ length: REPRICED }, (_, i) => ({
      id: `repriced-${i}`,
      organization_id: orgId,
      api_key_id: key.id,
      model: MODEL,
      neurons: 1_000 + i,
      synapses: 7 * i,
      timestamp: new Date(repricedFrom + i).toISOString(),
    }));
    await ingest(server(), repriced);
    sent(repriced);

    const batch = (client: number, n: number) =>
      Array.from({ length: BATCH }, (_, i) => ({
        id: `c${client}-${n}-${i}`,
        organization_id: orgId,
        api_key_id: key.id,
        model: MODEL,
        neurons: 100 + i,
        synapses: 10 + n,
        // Every other event states its cost; the others are priced from the sheet.
        ...(i % 2 === 0 ? { cost: '0.000001' } : {}),
        timestamp: new Date(base + client * 1000 + n).toISOString(),
      }));

    let ingesting = true;
    const ingestion = { start: Date.now(), end: 0 };
    const clients = Array.from({ length: CLIENTS }, async (_, client) => {
      for (let n = 0; n < BATCHES_PER_CLIENT; n++) {
        const events = batch(client, n);
        const response = await server().request('POST', '/v1/usage/events', {
          key: server().adminKey,
          body: { events },
        });
        assert.equal(response.status, 200, response.text);
        assert.equal(response.body.accepted, BATCH);
        sent(events);
      }
    });
    const spans: Span[] = [];
    const timed = async <T>(kind: Span['kind'], work: () => Promise<T>): Promise<T> => {
      const start = Date.now();
      const result = await work();
      spans.push({ kind, start, end: Date.now() });
      return result;
    };
    let rounds = 0;
    const others = (async () => {
      while (ingesting) {
        rounds++;
        const limits = await timed('limits', () =>
          server().request('PUT', `/v1/analytics/usage/limits/${orgId}`, {
            key: server().adminKey,
            body: { monthly_api_limit: 1_000_000 + rounds },
          }),
        );
        assert.equal(limits.status, 200, limits.text);
        const check = await timed('authorize', () =>
          server().request('POST', '/v1/usage/authorize', {
            key: server().adminKey,
            body: { organization_id: orgId, api_key_id: key.id, estimated_cost: 0.01 },
          }),
        );
        assert.equal(check.status, 200, check.text);
        assert.equal(check.body.allowed, true);
        // A new price for the events from `repricedFrom` on: repricing must rewrite exactly those,
        // reading and rewriting them and rebuilding their month's rollups in one transaction.
        const price = roundPrice(rounds);
        await setPrice(server().storage.db, { model: MODEL, effectiveFrom: repricedFrom, ...price }, Date.now());
        const result = await timed('reprice', () => reprice(server().storage, { model: MODEL, from: repricedFrom }));
        assert.deepEqual(result, {
          models: [MODEL],
          months: [monthKeyOf(repricedFrom)],
          examined: REPRICED,
          changed: REPRICED,
          unpriced: 0,
          skipped: 0,
        });
      }
    })();
    await Promise.all(clients).finally(() => {
      ingesting = false;
      ingestion.end = Date.now();
    });
    await others;

    // Each kind of write ran, start to end, while batches were being ingested.
    for (const kind of ['limits', 'authorize', 'reprice'] as const) {
      const inside = spans.filter((s) => s.kind === kind && s.start >= ingestion.start && s.end <= ingestion.end);
      assert.ok(inside.length > 0, `no ${kind} ran while ingestion ran (${rounds} rounds)`);
    }

    // The test's own sums: stated costs as sent, the others at the price in force at their time.
    const lastPrice = roundPrice(rounds);
    let cost = 0n;
    for (const e of repriced) cost += costNano(e.neurons, e.synapses, lastPrice);
    for (let client = 0; client < CLIENTS; client++) {
      for (let n = 0; n < BATCHES_PER_CLIENT; n++) {
        for (const [i, e] of batch(client, n).entries()) {
          cost += i % 2 === 0 ? 1_000n : costNano(e.neurons, e.synapses, initialPrice);
        }
      }
    }
    const db = server().storage.db;
    for (const table of ['rollup_org_model_month', 'rollup_key_model_month', 'rollup_key_day'] as const) {
      const row = await db
        .selectFrom(table)
        .select((eb) => [
          eb.fn.sum<bigint>('requests').as('requests'),
          eb.fn.sum<bigint>('neurons').as('neurons'),
          eb.fn.sum<bigint>('synapses').as('synapses'),
          eb.fn.sum<bigint>('cost_nano').as('cost'),
        ])
        .where('organization_id', '=', orgId)
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        [row.requests, row.neurons, row.synapses, row.cost].map((v) => BigInt(v)),
        [expected.requests, expected.neurons, expected.synapses, cost],
        table,
      );
    }
    assert.deepEqual((await checkRollups(db, orgId)).differences, []);
    const summary = await server().request('GET', `/v1/analytics/usage/summary/${orgId}`, { key: server().adminKey });
    assert.equal(summary.status, 200, summary.text);
    assert.equal(summary.body.totalRequests, REPRICED + CLIENTS * BATCHES_PER_CLIENT * BATCH);
  });
});

const event = (organizationId: string, id: string): UsageEvent => ({
  organizationId,
  id,
  apiKeyId: null,
  model: 'gpt-4o',
  neurons: 5n,
  cachedNeurons: 0n,
  cacheWriteNeurons: 0n,
  synapses: 7n,
  reasoningSynapses: 0n,
  endUser: null,
  tags: {},
  costNano: 11n,
  occurredAt: Date.now(),
});

// SQLite only: PostgreSQL has no writer thread; its batch writer is tested below.
describe('SQLite writer thread', () => {
  const tempFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-writer-')), 'usage.sqlite');
  /** A migrated database file with one organization, its storage and a writer thread on it. */
  async function withWriter(
    organizationId: string,
    work: (writer: SqliteWriterThread, storage: Storage) => Promise<void>,
  ) {
    const file = tempFile();
    const storage = await openStorage({ kind: 'sqlite', path: file });
    const writer = new SqliteWriterThread(file);
    try {
      await migrateToLatest(storage);
      await createOrganization(storage.db, { name: organizationId, id: organizationId }, Date.now());
      await work(writer, storage);
    } finally {
      await writer.close();
      await storage.close();
    }
  }

  it("rejects a group with the database's error, then writes the next one", async () => {
    const file = tempFile();
    connectSqlite(file).close();
    const writer = new SqliteWriterThread(file);
    try {
      // No tables yet.
      const batch = { events: [event('org_a', 'e-1')], reservations: [], receivedAt: Date.now() };
      await assert.rejects(writer.write([batch]), (error: { code?: string; message: string }) => {
        assert.equal(error.code, 'SQLITE_ERROR');
        assert.match(error.message, /no such table/);
        return true;
      });

      const storage = await openStorage({ kind: 'sqlite', path: file });
      await migrateToLatest(storage);
      await createOrganization(storage.db, { name: 'A', id: 'org_a' }, Date.now());
      const again = { ...batch, events: [event('org_a', 'e-1'), event('org_a', 'e-2')] };
      const retried = { ...batch, events: [event('org_a', 'e-2'), event('org_a', 'e-3')] };
      // Two batches in one group: e-2 counts for the first only.
      assert.deepEqual(await writer.write([again, retried]), [[0, 1], [1]]);
      // Committed, as another connection sees.
      const count = await storage.db
        .selectFrom('usage_events')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 3);
      const rollup = await storage.db.selectFrom('rollup_org_model_month').selectAll().executeTakeFirstOrThrow();
      assert.equal(rollup.requests, 3n);
      assert.equal(rollup.cost_nano, 33n);
      await storage.close();
    } finally {
      await writer.close();
    }
    await assert.rejects(
      writer.write([{ events: [event('org_a', 'e-4')], reservations: [], receivedAt: Date.now() }]),
      /closed/,
    );
  });

  it('opens ahead of the first write, and rejects when it cannot open the database', async () => {
    const missing = new SqliteWriterThread(path.join(os.tmpdir(), 'freddy-no-such-dir', 'usage.sqlite'));
    await assert.rejects(missing.open(), /directory does not exist/);
    await missing.close();

    await withWriter('org_o', async (writer) => {
      await writer.open();
      await writer.open();
      assert.deepEqual(
        await writer.write([{ events: [event('org_o', 'o-1')], reservations: [], receivedAt: Date.now() }]),
        [[0]],
      );
    });
  });

  it("holds the write lock for the whole of a server connection's transaction, so the writer waits", async () => {
    await withWriter('org_l', async (writer, storage) => {
      const batch = (id: string) => ({ events: [event('org_l', id)], reservations: [], receivedAt: Date.now() });
      await writer.write([batch('before')]);

      let attempts = 0;
      let written: Promise<number[][]> | undefined;
      await storage.transaction(async (trx) => {
        attempts++;
        await trx.selectFrom('usage_events').select('id').execute();
        // The writer commits now unless this transaction already holds the lock; had it,
        // this transaction's write below would fail (SQLITE_BUSY_SNAPSHOT) and run again.
        written ??= writer.write([batch('during')]);
        await new Promise((resolve) => setTimeout(resolve, 150));
        await trx.updateTable('organizations').set({ name: 'L2' }).where('id', '=', 'org_l').execute();
      });
      assert.equal(attempts, 1);
      assert.deepEqual(await written, [[0]]);
    });
  });

  it('writes an in-memory database on the server connection, which no thread can share', async () => {
    const storage = await openStorage({ kind: 'sqlite', path: ':memory:' });
    try {
      await migrateToLatest(storage);
      await createOrganization(storage.db, { name: 'M', id: 'org_m' }, Date.now());
      const inputs = [1, 2, 2].map((n) => ({
        id: `m-${n}`,
        organization_id: 'org_m',
        model: 'gpt-4o',
        neurons: 1,
        synapses: 1,
        cost: '0.5',
      }));
      const result = await ingestUsage(contextOf(storage), { kind: 'admin', keyId: 'test' }, inputs, Date.now());
      assert.deepEqual([result.accepted, result.duplicates], [2, 1]);
      const rollup = await storage.db.selectFrom('rollup_org_model_month').selectAll().executeTakeFirstOrThrow();
      assert.equal(rollup.cost_nano, 1_000_000_000n);
    } finally {
      await storage.close();
    }
  });
});

// PostgreSQL only: the batch writer that runs statements side by side exists only there.
describe('PostgreSQL batches that share events', { skip: !DIALECTS.includes('postgres') }, () => {
  /**
   * A PostgreSQL database whose inserts of the event "slow" take half a second and of "boom"
   * fail, so that a batch can be caught while it is being written.
   */
  async function withFaultyDatabase(
    work: (writer: PostgresBatchWriter, ids: () => Promise<string[]>, db: Db) => Promise<void>,
  ) {
    const database = await createTestDatabase('postgres');
    const storage = await openStorage(database.config);
    try {
      await migrateToLatest(storage);
      await createOrganization(storage.db, { name: 'P', id: 'org_p' }, Date.now());
      await sql`create function slow_or_failing_insert() returns trigger language plpgsql as $$
        begin
          if new.id = 'slow' then perform pg_sleep(0.5); end if;
          if new.id = 'boom' then raise exception 'boom'; end if;
          return new;
        end $$`.execute(storage.db);
      await sql`create trigger slow_or_failing before insert on usage_events
        for each row execute function slow_or_failing_insert()`.execute(storage.db);
      const ids = async () =>
        (await storage.db.selectFrom('usage_events').select('id').orderBy('id').execute()).map((r) => r.id);
      await work(new PostgresBatchWriter(storage.db, DEFAULT_INGEST_CONCURRENCY), ids, storage.db);
      assert.deepEqual((await checkRollups(storage.db, 'org_p')).differences, []);
    } finally {
      await storage.close();
      await database.drop();
    }
  }
  const batch = (...ids: string[]) => ({
    events: ids.map((id) => event('org_p', id)),
    reservations: [],
    receivedAt: Date.now(),
  });
  const idsOf = (events: Array<{ id: string }>) => events.map((e) => e.id).sort();

  it('commits a batch without waiting for the statement that is writing some of its events', async () => {
    await withFaultyDatabase(async (writer, ids) => {
      let firstDone = false;
      const first = writer.write(batch('slow', 'x')).finally(() => {
        firstDone = true;
      });
      const second = writer.write(batch('x', 'y'));
      // y is committed while the first batch still sleeps; had the second batch inserted x
      // itself, it would have waited for the first to commit.
      while (!(await ids()).includes('y')) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(firstDone, false);
      assert.deepEqual(idsOf(await first), ['slow', 'x']);
      // x counts for the first batch only.
      assert.deepEqual(idsOf(await second), ['y']);
      assert.deepEqual(await ids(), ['slow', 'x', 'y']);
    });
  });

  it('runs at most its concurrency of statements at once; the others wait in the process', async () => {
    await withFaultyDatabase(async (_writer, ids, db) => {
      const single = new PostgresBatchWriter(db, 1);
      const first = single.write(batch('slow'));
      const second = single.write(batch('y'));
      await new Promise((resolve) => setTimeout(resolve, 250));
      // The first statement sleeps for 500 ms; the second has not started.
      assert.deepEqual(await ids(), []);
      assert.deepEqual(idsOf(await first), ['slow']);
      assert.deepEqual(idsOf(await second), ['y']);
      assert.deepEqual(await ids(), ['slow', 'y']);
    });
  });

  it('writes the events itself when the statement that was writing them fails', async () => {
    await withFaultyDatabase(async (writer, ids) => {
      const first = writer.write(batch('boom', 'x'));
      const second = writer.write(batch('x', 'y'));
      await assert.rejects(first, /boom/);
      assert.deepEqual(idsOf(await second), ['x', 'y']);
      assert.deepEqual(await ids(), ['x', 'y']);
      // Once nothing writes them any more, x and y are plain duplicates.
      assert.deepEqual(idsOf(await writer.write(batch('x', 'y', 'z'))), ['z']);
    });
  });
});
