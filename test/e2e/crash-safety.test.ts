/**
 * Crash safety: the real server process is killed with SIGKILL at random moments while
 * several clients stream batches, and restarted on the same database; clients retry every
 * batch not acknowledged with 200. Afterwards every acknowledged event is stored exactly
 * once, the summary totals equal the raw counts, and every rollup equals its recomputation.
 * Kills land while requests are in flight, and some requests get no answer because of them.
 * CRASH_KILLS sets the kills per engine (10, so 20 over a run of both engines); the soak
 * script raises it.
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

const KILLS = Number(process.env.CRASH_KILLS ?? 10);
const CLIENTS = 4;
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);

const SERVER_ENV = { RATE_LIMIT_PER_MINUTE: '0' };

async function stop(server: ServerProcess): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGTERM');
  await server.exited;
}

for (const dialect of DIALECTS) {
  describe(`crash safety [${dialect}]`, () => {
    let database: TestDatabase | undefined;
    let current: ServerProcess | undefined;
    after(async () => {
      // Also when the test failed half-way: no server outlives the suite.
      if (current && current.child.exitCode === null && current.child.signalCode === null) {
        current.child.kill('SIGKILL');
        await current.exited;
      }
      await database?.drop();
    });

    it(`keeps every acknowledged event exactly once across ${KILLS} SIGKILLs (seed ${SEED})`, async (t) => {
      database = await createTestDatabase(dialect);
      const started = Date.now();
      let { server, adminKey, tenants } = await bootstrap(database);
      current = server;
      let up = true;
      const acknowledged = new Map<string, EventInput>();
      const stats = newStats();
      let stopping = false;

      const client = async (index: number) => {
        const random = seededRandom(SEED * 31 + index);
        const sent: EventInput[][] = [];
        for (let batch = 0; !stopping; batch++) {
          // Now and then a batch that was already acknowledged is sent again: all duplicates.
          const resend = sent.length > 0 && random() < 0.1;
          const events = resend
            ? sent[Math.floor(random() * sent.length)]!
            : makeBatch(`c${index}`, batch, tenants, random);
          const answer = await sendUntilAcknowledged(() => (up ? [server.url] : []), adminKey, events, stats, random);
          if (resend) assert.equal(answer.accepted, 0, 'a re-sent acknowledged batch was counted again');
          else sent.push(events);
          for (const event of events) acknowledged.set(eventKey(event), event);
        }
      };
      const clients = Array.from({ length: CLIENTS }, (_, i) => client(i));

      const random = seededRandom(SEED);
      let kills = 0;
      /** Requests in flight at the moment of each kill. */
      const inFlightAtKill: number[] = [];
      let clientFailure: unknown;
      for (const c of clients) {
        c.catch((error: unknown) => {
          clientFailure ??= error;
        });
      }
      while (kills < KILLS && !clientFailure) {
        await new Promise((resolve) => setTimeout(resolve, 100 + random() * 600));
        up = false;
        inFlightAtKill.push(stats.inFlight);
        server.child.kill('SIGKILL');
        await server.exited;
        kills++;
        server = await startServerProcess({ ...database.env, ...SERVER_ENV });
        current = server;
        up = true;
      }
      // Some more traffic after the last restart, then every client finishes its batch.
      await new Promise((resolve) => setTimeout(resolve, 300));
      stopping = true;
      await Promise.all(clients);

      const storage = await openStorage(database.config);
      try {
        const totals = await assertExactlyOnce(storage, acknowledged, (orgId) =>
          summaryOf(server.url, adminKey, orgId),
        );
        assert.ok(stats.accepted <= totals.events, 'more accepted than stored');
        if (clientFailure) throw clientFailure;
        assert.equal(kills, KILLS);
        // The kills hit requests in flight, and those requests got no answer: a kill between
        // requests would prove nothing about acknowledged data.
        const hitInFlight = inFlightAtKill.filter((n) => n > 0).length;
        assert.ok(hitInFlight >= Math.ceil(KILLS / 2), `kills with requests in flight: ${inFlightAtKill.join(', ')}`);
        assert.ok(stats.unanswered >= hitInFlight, `${stats.unanswered} requests got no answer`);
        t.diagnostic(
          `${dialect}: ${kills} kills (requests in flight at each: ${inFlightAtKill.join(', ')}; ` +
            `${stats.unanswered} got no answer), ${totals.events} events stored once, ${stats.batchesAcknowledged} batches ` +
            `acknowledged in ${stats.attempts} attempts (${stats.failedAttempts} failed), ` +
            `${stats.duplicates} duplicate acknowledgements, ${Math.round((Date.now() - started) / 1000)} s`,
        );
      } finally {
        await storage.close();
        await stop(server);
      }
    });
  });
}
