/**
 * Replicas: several server processes on one PostgreSQL schema. In each round every client
 * sends a batch to two processes at once, and the batches of all clients share events (the
 * same ids, in different orders), so the same rows are written by concurrent transactions in
 * different processes. Every answer must be a 200, the accepted counts of all answers must add
 * up to the number of distinct events (each counted once), and every rollup must add up.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { seededRandom } from '../../src/seeded-random.ts';
import { openStorage } from '../../src/storage/storage.ts';
import { createTestDatabase, DIALECTS, type EventInput, type TestDatabase } from '../harness.ts';
import { type ServerProcess, startServerProcess } from '../process.ts';
import {
  assertExactlyOnce,
  bootstrap,
  eventKey,
  makeBatch,
  newStats,
  sendUntilAcknowledged,
  summaryOf,
} from '../streaming-clients.ts';

const REPLICAS = 3;
const CLIENTS = 4;
const ROUNDS = Number(process.env.REPLICA_ROUNDS ?? 40);
const SEED = Number(process.env.REPLICA_SEED ?? Date.now() % 1_000_000);
const ENV = { RATE_LIMIT_PER_MINUTE: '0', DATABASE_POOL_SIZE: '4' };

function shuffled<T>(items: T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

// PostgreSQL only: replicas share a database only there (SQLite serves one process).
describe('replicas on one PostgreSQL', { skip: !DIALECTS.includes('postgres') && 'PostgreSQL not enabled' }, () => {
  let database: TestDatabase | undefined;
  const servers: ServerProcess[] = [];
  after(async () => {
    for (const server of servers) {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
      await server.exited;
    }
    await database?.drop();
  });

  it(`counts overlapping batches sent to ${REPLICAS} processes exactly once, without a 5xx (seed ${SEED})`, async (t) => {
    database = await createTestDatabase('postgres');
    const first = await bootstrap(database, ENV);
    servers.push(first.server);
    // The other replicas start together, as after a deployment.
    const others = await Promise.all(
      Array.from({ length: REPLICAS - 1 }, () => startServerProcess({ ...database!.env, ...ENV })),
    );
    servers.push(...others);
    const urls = servers.map((s) => s.url);
    const { adminKey, tenants } = first;

    const stats = newStats();
    const acknowledged = new Map<string, EventInput>();
    const randoms = Array.from({ length: CLIENTS }, (_, c) => seededRandom(SEED * 17 + c));
    for (let round = 0; round < ROUNDS; round++) {
      const shared = makeBatch('shared', round, tenants, seededRandom(SEED + round));
      const distinct = new Set(shared.map(eventKey));
      const acceptedBefore = stats.accepted;
      await Promise.all(
        randoms.map(async (random, c) => {
          const own = makeBatch(`c${c}`, round, tenants, random).slice(0, 1000 - shared.length);
          for (const event of own) distinct.add(eventKey(event));
          const events = shuffled([...shared, ...own], random);
          const a = c % urls.length;
          const b = (a + 1 + Math.floor(random() * (urls.length - 1))) % urls.length;
          // The same batch to two processes at the same moment.
          await Promise.all(
            [urls[a]!, urls[b]!].map((url) =>
              sendUntilAcknowledged(() => [url], adminKey, events, stats, random, false),
            ),
          );
          for (const event of events) acknowledged.set(eventKey(event), event);
        }),
      );
      assert.equal(stats.accepted - acceptedBefore, distinct.size, `round ${round}: accepted ≠ distinct events`);
    }

    assert.equal(stats.failedAttempts, 0, 'a request failed');
    assert.deepEqual([...stats.statuses.keys()], [200]);
    assert.equal(stats.accepted, acknowledged.size);
    const storage = await openStorage(database.config);
    try {
      const totals = await assertExactlyOnce(storage, acknowledged, (orgId) =>
        summaryOf(urls[orgId.length % urls.length]!, adminKey, orgId),
      );
      t.diagnostic(
        `postgres: ${REPLICAS} processes, ${ROUNDS} rounds, ${stats.attempts} requests all 200, ` +
          `${totals.events} distinct events stored once, ${stats.duplicates} duplicate acknowledgements`,
      );
    } finally {
      await storage.close();
    }
  });
});
