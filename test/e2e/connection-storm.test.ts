/**
 * A storm of ended PostgreSQL sessions: while clients stream batches, read summaries, ask the
 * budget check and change limits against a real server process, every session of the server is
 * terminated (pg_terminate_backend, from a connection of the test's own) again and again, idle
 * and busy alike. The process stays up; every answer is a 200 or a 503 envelope with
 * Retry-After; every acknowledged event is stored exactly once and the rollups equal their
 * recomputation from raw events; after the storm, requests succeed at once. STORM_MS sets the
 * storm's length (4 s; the soak script raises it), STORM_SEED the clients' data.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from '../../src/seeded-random.ts';
import { openStorage } from '../../src/storage/storage.ts';
import { createTestDatabase, DIALECTS, type EventInput, type TestDatabase, terminateBackends } from '../harness.ts';
import type { ServerProcess } from '../process.ts';
import {
  assertExactlyOnce,
  bootstrap,
  eventKey,
  makeBatch,
  newStats,
  sendUntilAcknowledged,
  summaryOf,
} from '../streaming-clients.ts';

const STORM_MS = Number(process.env.STORM_MS ?? 4_000);
const SEED = Number(process.env.STORM_SEED ?? Date.now() % 1_000_000);

class ServerDied extends Error {}

describe('a storm of ended PostgreSQL sessions [postgres]', { skip: !DIALECTS.includes('postgres') }, () => {
  let database: TestDatabase | undefined;
  let server: ServerProcess | undefined;
  after(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    await database?.drop();
  });

  it(`keeps the process up and every acknowledged event exactly once (seed ${SEED})`, async (t) => {
    database = await createTestDatabase('postgres');
    const schema = database.env.DATABASE_SCHEMA!;
    const started = await bootstrap(database);
    const { adminKey, tenants } = started;
    const running = started.server;
    server = running;
    const alive = () => running.child.exitCode === null && running.child.signalCode === null;
    const urls = () => {
      if (!alive()) throw new ServerDied(`the server exited: ${running.stderr.join('').slice(-2000)}`);
      return [running.url];
    };

    /** Answers of the other routes: 200, or a 503 envelope with Retry-After; anything else fails. */
    const answers = { ok: 0, unavailable: 0 };
    const call = async (method: string, url: string, body?: unknown) => {
      let response: Response;
      try {
        response = await fetch(urls()[0] + url, {
          method,
          headers: { 'x-api-key': adminKey, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(15_000),
        });
      } catch (error) {
        // A refused connection: say so if it is because the process ended.
        await Promise.race([running.exited, sleep(1_000)]);
        urls();
        throw error;
      }
      const text = await response.text();
      if (response.status === 200) return answers.ok++;
      assert.equal(response.status, 503, `${method} ${url}: ${text}`);
      assert.equal(JSON.parse(text).error.code, 'SERVICE_UNAVAILABLE', text);
      assert.equal(response.headers.get('retry-after'), '1');
      answers.unavailable++;
    };
    const tenant = tenants[0]!;
    const routes = [
      () => call('GET', `/v1/analytics/usage/summary/${tenants[1]!.orgId}`),
      () => call('GET', `/v1/analytics/api-keys/usage/${tenant.orgId}/${tenant.apiKeyIds[0]}`),
      () =>
        call('POST', '/v1/usage/authorize', {
          organization_id: tenant.orgId,
          api_key_id: tenant.apiKeyIds[1],
          estimated_cost: 0.001,
        }),
      () => call('PUT', `/v1/analytics/usage/limits/${tenant.orgId}`, { monthly_api_limit: 1_000_000 }),
    ];

    let stopping = false;
    const acknowledged = new Map<string, EventInput>();
    const stats = newStats();
    const ingestClient = async (index: number) => {
      const random = seededRandom(SEED * 31 + index);
      for (let batch = 0; !stopping; batch++) {
        const events = makeBatch(`c${index}`, batch, tenants, random);
        await sendUntilAcknowledged(urls, adminKey, events, stats, random);
        for (const event of events) acknowledged.set(eventKey(event), event);
      }
    };
    const otherClient = async (route: () => Promise<unknown>) => {
      while (!stopping) await route();
    };
    const clients = [...[0, 1, 2].map(ingestClient), ...routes.map(otherClient)];
    let clientFailure: unknown;
    for (const client of clients) {
      client.catch((error: unknown) => {
        clientFailure ??= error;
      });
    }

    const random = seededRandom(SEED);
    let rounds = 0;
    let ended = 0;
    for (const start = Date.now(); Date.now() - start < STORM_MS && !clientFailure; rounds++) {
      await sleep(30 + random() * 90);
      ended += await terminateBackends(schema);
    }
    stopping = true;
    await Promise.allSettled(clients);
    if (clientFailure) throw clientFailure;
    assert.ok(alive(), 'the server process is still up');

    // After the storm, each route answers at the first attempt.
    const next = makeBatch('after', 0, tenants, random);
    const failedBefore = stats.failedAttempts;
    await sendUntilAcknowledged(urls, adminKey, next, stats, random, false);
    assert.equal(stats.failedAttempts, failedBefore);
    for (const event of next) acknowledged.set(eventKey(event), event);
    const unavailableBefore = answers.unavailable;
    for (const route of routes) await route();
    assert.equal(answers.unavailable, unavailableBefore, 'a request after the storm was refused');

    const storage = await openStorage(database.config);
    try {
      const totals = await assertExactlyOnce(storage, acknowledged, (orgId) => summaryOf(running.url, adminKey, orgId));
      const lost = running.stdout.filter((line) => line.includes('"msg":"database connection lost"')).length;
      const refused = (stats.statuses.get(503) ?? 0) + answers.unavailable;
      t.diagnostic(
        `${rounds} rounds ended ${ended} sessions; ${lost} losses logged; ${totals.events} events stored once from ` +
          `${stats.batchesAcknowledged} batches in ${stats.attempts} attempts; other routes ${answers.ok} × 200, ` +
          `${answers.unavailable} × 503`,
      );
      assert.ok(ended >= 10, `only ${ended} sessions ended`);
      assert.ok(lost >= 1, 'the server logged the lost connections');
      assert.ok(refused >= 1, 'the storm refused no request: it hit no busy connection');
    } finally {
      await storage.close();
    }

    running.child.kill('SIGTERM');
    assert.equal(await running.exited, 0, 'a clean shutdown after the storm');
  });
});
