/**
 * REQUEST_TIMEOUT_MS bounds the database work of a request. With a lock held by another
 * connection (SQLite: `begin immediate`; PostgreSQL: `lock table … in access exclusive mode`),
 * ingestion, a read and the budget check answer 503 with Retry-After within about the bound,
 * and nothing is written; once the lock is gone, the same requests succeed. Migrations at start
 * are not held to the bound.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { startServer } from '../src/main.ts';
import { createAdminKey } from '../src/modules/admin-keys/admin-keys.service.ts';
import { checkRollups } from '../src/modules/rollups/check.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { openStorage } from '../src/storage/storage.ts';
import { toNumber } from '../src/storage/values.ts';
import {
  assertEnvelope,
  createTestDatabase,
  DIALECTS,
  type EventInput,
  forEachDialect,
  ingest,
  makeApiKey,
  makeOrg,
  POSTGRES_URL,
  type TestResponse,
  type TestServer,
} from './harness.ts';

/** REQUEST_TIMEOUT_MS of the servers here. */
const BOUND_MS = 1_500;
/** Room for a busy 2-core machine between the bound and the answer. */
const SLACK_MS = 2_000;

interface HeldLock {
  release(): Promise<void>;
}

/**
 * Another connection holds a lock: SQLite's write lock, or PostgreSQL's access exclusive lock on
 * `table`. It lets go after three bounds at the latest, so that a server that ignores its bound
 * answers late (and fails the test) instead of never.
 */
async function holdLock(server: TestServer, table: string): Promise<HeldLock> {
  const config = server.database.config;
  if (config.kind === 'sqlite') {
    const holder = new SQLite(config.path);
    holder.exec('begin immediate');
    const release = async () => {
      clearTimeout(timer);
      if (!holder.open) return;
      holder.exec('rollback');
      holder.close();
    };
    const timer = setTimeout(release, 3 * BOUND_MS);
    return { release };
  }
  const holder = new pg.Client({ connectionString: POSTGRES_URL });
  await holder.connect();
  await holder.query(`begin; lock table ${config.schema}.${table} in access exclusive mode`);
  let released: Promise<void> | undefined;
  const release = () => {
    clearTimeout(timer);
    released ??= holder.query('rollback').then(() => holder.end());
    return released;
  };
  const timer = setTimeout(release, 3 * BOUND_MS);
  return { release };
}

async function timed(request: () => Promise<TestResponse>): Promise<{ response: TestResponse; elapsedMs: number }> {
  const started = performance.now();
  const response = await request();
  return { response, elapsedMs: performance.now() - started };
}

/** A 503 envelope with Retry-After, after the work waited about its bound. */
function assertGaveUpAtBound(answer: { response: TestResponse; elapsedMs: number }): void {
  assertEnvelope(assert, answer.response, 503, 'SERVICE_UNAVAILABLE');
  assert.equal(answer.response.headers.get('retry-after'), '1');
  assert.doesNotMatch(answer.response.text, /lock|statement|SQLITE|select|insert/i, 'no database detail leaks');
  const elapsed = Math.round(answer.elapsedMs);
  assert.ok(elapsed >= BOUND_MS * 0.8, `gave up after ${elapsed} ms, well before its bound of ${BOUND_MS} ms`);
  assert.ok(elapsed < BOUND_MS + SLACK_MS, `answered after ${elapsed} ms with a bound of ${BOUND_MS} ms`);
}

forEachDialect(
  'database work bounded by REQUEST_TIMEOUT_MS',
  (server) => {
    let orgId: string;
    let key: string;
    let batchNumber = 0;

    const events = (count: number): EventInput[] => {
      batchNumber++;
      return Array.from({ length: count }, (_, i) => ({
        id: `bound-${batchNumber}-${i}`,
        organization_id: orgId,
        model: 'gpt-4o',
        neurons: 100 + i,
        synapses: 50,
        cost: '0.001',
      }));
    };
    const storedEvents = async () =>
      toNumber(
        (
          await server()
            .storage.db.selectFrom('usage_events')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('organization_id', '=', orgId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const reservations = async () =>
      (await server().storage.db.selectFrom('reservations').select('id').where('organization_id', '=', orgId).execute())
        .length;
    const post = (batch: EventInput[]) =>
      server().request('POST', '/v1/usage/events', { key, body: { events: batch } });
    const authorize = () =>
      server().request('POST', '/v1/usage/authorize', {
        key,
        body: { organization_id: orgId, estimated_cost: 0.01 },
      });

    before(async () => {
      orgId = (await makeOrg(server())).id;
      key = (await makeApiKey(server(), orgId)).secret;
      // The key's first use is recorded (a write) and SQLite's writer thread starts: neither
      // happens again under the locks below.
      await ingest(server(), events(3), key);
    });

    it('ingestion answers 503 at the bound and writes nothing; the batch is accepted once the lock is gone', async () => {
      const stored = await storedEvents();
      const batch = events(5);
      const lock = await holdLock(server(), 'usage_events');
      let answer: Awaited<ReturnType<typeof timed>>;
      try {
        answer = await timed(() => post(batch));
      } finally {
        await lock.release();
      }
      assertGaveUpAtBound(answer);
      assert.equal(await storedEvents(), stored, 'no event of the refused batch was stored');
      assert.deepEqual((await checkRollups(server().storage.db, orgId)).differences, []);

      const retried = await post(batch);
      assert.equal(retried.status, 200, retried.text);
      assert.equal(retried.body.accepted, 5);
      assert.equal(await storedEvents(), stored + 5);
      assert.deepEqual((await checkRollups(server().storage.db, orgId)).differences, []);
    });

    it('batches waiting for their turn are refused at their own bound, not one bound after another', async () => {
      const stored = await storedEvents();
      const batches = Array.from({ length: 6 }, () => events(4));
      const lock = await holdLock(server(), 'usage_events');
      let answers: Array<Awaited<ReturnType<typeof timed>>>;
      try {
        answers = await Promise.all(batches.map((batch) => timed(() => post(batch))));
      } finally {
        await lock.release();
      }
      for (const answer of answers) assertGaveUpAtBound(answer);
      assert.equal(await storedEvents(), stored);
      assert.deepEqual((await checkRollups(server().storage.db, orgId)).differences, []);
    });

    it('a read waits at most the bound for a locked rollup (PostgreSQL); SQLite readers never wait for the writer', async () => {
      // An organization not read before: its summary cannot come from the read memo.
      const other = (await makeOrg(server(), { name: 'Read under lock' })).id;
      await ingest(server(), [
        { id: 'r1', organization_id: other, model: 'gpt-4o', neurons: 10, synapses: 5, cost: '0.5' },
      ]);
      const lock = await holdLock(server(), 'rollup_org_model_month');
      let answer: Awaited<ReturnType<typeof timed>>;
      try {
        answer = await timed(() =>
          server().request('GET', `/v1/analytics/usage/summary/${other}`, { key: server().adminKey }),
        );
      } finally {
        await lock.release();
      }
      if (server().dialect === 'postgres') assertGaveUpAtBound(answer);
      else {
        assert.equal(answer.response.status, 200, answer.response.text);
        assert.ok(answer.elapsedMs < BOUND_MS / 2, `a read under SQLite's write lock took ${answer.elapsedMs} ms`);
      }
      const after = await server().request('GET', `/v1/analytics/usage/summary/${other}`, { key: server().adminKey });
      assert.equal(after.status, 200, after.text);
      assert.equal(after.body.totalRequests, 1);
    });

    it('the budget check answers 503 at the bound and reserves nothing', async () => {
      const before = await reservations();
      const lock = await holdLock(server(), 'reservations');
      let answer: Awaited<ReturnType<typeof timed>>;
      try {
        answer = await timed(authorize);
      } finally {
        await lock.release();
      }
      assertGaveUpAtBound(answer);
      assert.equal(await reservations(), before, 'no reservation was left behind');

      const retried = await authorize();
      assert.equal(retried.status, 200, retried.text);
      assert.equal(await reservations(), before + 1);
    });
  },
  { requestTimeoutMs: BOUND_MS },
);

describe('migrations at start are not held to REQUEST_TIMEOUT_MS [postgres]', {
  skip: !DIALECTS.includes('postgres'),
}, () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('the migration step waits longer than a request may and completes; requests are bounded afterwards', async () => {
    const database = await createTestDatabase('postgres');
    cleanup.push(() => database.drop());
    const config = database.config as Extract<typeof database.config, { kind: 'postgres' }>;
    const setup = await openStorage(config);
    await migrateToLatest(setup);
    await createAdminKey(setup.db, 'test admin', Date.now());
    await setup.close();

    // The migrator reads its table of applied migrations: it waits as long as this lock is held.
    const holder = new pg.Client({ connectionString: POSTGRES_URL });
    await holder.connect();
    cleanup.push(() => holder.end());
    await holder.query(`begin; lock table ${config.schema}.kysely_migration in access exclusive mode`);
    const waitMs = 3 * 300;
    const released = sleep(waitMs).then(() => holder.query('rollback'));

    const started = performance.now();
    const server = await startServer(
      loadConfig({ ...database.env, PORT: '0', LOG_LEVEL: 'silent', REQUEST_TIMEOUT_MS: '300' }),
    );
    const startedInMs = performance.now() - started;
    cleanup.push(() => server.close());
    await released;
    assert.ok(startedInMs >= waitMs * 0.9, `started in ${startedInMs} ms: the migration step did not wait`);
    const statementTimeout = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(
      server.ctx.storage.db,
    );
    assert.equal(statementTimeout.rows[0]?.statement_timeout, '300ms', 'requests are bounded after the migrations');
  });
});
