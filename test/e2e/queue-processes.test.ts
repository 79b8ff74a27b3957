/**
 * Queue ingestion with real processes: `freddy-analytics consume` pulling from the real NATS
 * JetStream on loopback.
 * - SIGKILLed 5 times while 200k events are published (with some messages published twice):
 *   every event is stored exactly once, and every total and rollup adds up.
 * - PostgreSQL unreachable for 20 s behind a TCP proxy the test cuts: publishing never fails,
 *   the backlog grows, and once the database is back it drains with nothing lost.
 * - The producer of docs/operations.md, run as written (names swapped for the test's own).
 * Each suite has a stream and subjects of its own, deleted afterwards.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { fromRoot } from '../../src/project-root.ts';
import { seededRandom } from '../../src/seeded-random.ts';
import {
  assertStoredOnce,
  type Consumer,
  kill,
  messagesOf,
  queueEnv,
  startConsumer,
  tenantsOf,
} from '../consumer-process.ts';
import { createTestDatabase, DIALECTS, type EventInput, POSTGRES_URL, type TestDatabase } from '../harness.ts';
import { startServerProcess } from '../process.ts';
import { eventually, type Producer, producer, queueConfig } from '../queue.ts';
import { eventKey, makeBatch, summaryOf } from '../streaming-clients.ts';

const SEED = Number(process.env.QUEUE_SEED ?? Date.now() % 1_000_000);

for (const dialect of DIALECTS) {
  describe(`queue consumer SIGKILLed [${dialect}]`, () => {
    const config = queueConfig();
    let database: TestDatabase | undefined;
    let nats: Producer | undefined;
    let consumer: Consumer | undefined;
    after(async () => {
      await kill(consumer, 'SIGKILL');
      await nats?.close();
      await database?.drop();
    });

    it(`stores each of 200k published events exactly once across 5 SIGKILLs (seed ${SEED})`, async () => {
      database = await createTestDatabase(dialect);
      const { adminKey, tenants } = await tenantsOf(database);
      nats = await producer(config);
      const env = {
        ...database.env,
        ...queueEnv(config),
      };
      consumer = await startConsumer(env);

      const random = seededRandom(SEED);
      const published = new Map<string, EventInput>();
      const sent: Array<{ org: string; body: unknown }> = [];
      let messages = 0;
      const started = Date.now();
      // About 20k events a second, so that the kills land while messages are still coming.
      const publishing = (async () => {
        for (let batch = 0; published.size < 200_000; batch++) {
          const events = makeBatch('q', batch, tenants, random).slice(0, 200_000 - published.size);
          const inFlight: Promise<void>[] = [];
          for (const message of messagesOf(events)) {
            inFlight.push(nats!.publish(message.org, message.body));
            sent.push(message);
            messages++;
          }
          // Now and then a message already published, again: its events must not count twice.
          if (random() < 0.05) {
            const again = sent[Math.floor(random() * sent.length)]!;
            inFlight.push(nats!.publish(again.org, again.body));
            messages++;
          }
          await Promise.all(inFlight);
          for (const event of events) published.set(eventKey(event), event);
          const ahead = published.size / 20 - (Date.now() - started);
          if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead));
        }
      })();

      for (let kills = 0; kills < 5; kills++) {
        // Spread over the publishing: the k-th kill once a k-th sixth of the events is out, and a moment.
        await eventually(async () => published.size >= ((kills + 1) * 200_000) / 6, 'events to be published', 60_000);
        await new Promise((resolve) => setTimeout(resolve, random() * 500));
        // Killed while it holds messages it has not acknowledged: a batch in flight, or about to be.
        await eventually(async () => (await nats!.backlog()) > 0, 'messages for the consumer to hold');
        await kill(consumer, 'SIGKILL');
        assert.equal(consumer.child.signalCode, 'SIGKILL');
        consumer = await startConsumer(env);
      }
      await publishing;
      assert.equal(published.size, 200_000);
      // Stopped by SIGTERM while it works: it finishes its batches, acknowledges them and exits 0;
      // another process writes the rest.
      await eventually(async () => (await nats!.backlog()) > 0, 'messages for the consumer to hold');
      consumer.child.kill('SIGTERM');
      assert.deepEqual(await consumer.exited, { code: 0, signal: null });
      consumer = await startConsumer(env);
      await eventually(async () => (await nats!.backlog()) === 0, 'the backlog to drain', 120_000);
      consumer.child.kill('SIGTERM');
      assert.deepEqual(await consumer.exited, { code: 0, signal: null });
      assert.deepEqual(await nats.deadLetters(), []);
      await assertStoredOnce(database, adminKey, published);
      process.stderr.write(
        `[queue ${dialect}] ${published.size} events in ${messages} messages, 5 kills, ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
      );
    });
  });
}

/**
 * A TCP proxy in front of PostgreSQL that the test can cut (existing connections reset, new
 * ones refused) and restore on the same port.
 */
class CuttableProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      this.sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

if (DIALECTS.includes('postgres')) {
  describe('queue ingestion while PostgreSQL is unreachable [postgres]', () => {
    const config = queueConfig();
    let database: TestDatabase | undefined;
    let nats: Producer | undefined;
    let consumer: Consumer | undefined;
    const target = new URL(POSTGRES_URL);
    const proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port || 5432) });
    after(async () => {
      await kill(consumer, 'SIGKILL');
      await proxy.cut();
      await nats?.close();
      await database?.drop();
    });

    it('never fails a publish, loses nothing, and drains the backlog once the database is back', async () => {
      database = await createTestDatabase('postgres');
      const { adminKey, tenants } = await tenantsOf(database);
      nats = await producer(config);
      await proxy.open();
      const viaProxy = new URL(database.env.DATABASE_URL!);
      viaProxy.host = `127.0.0.1:${proxy.port}`;
      consumer = await startConsumer({
        ...database.env,
        DATABASE_URL: viaProxy.toString(),
        // Bounded work, as a request's: a statement that hangs fails the batch, which comes back.
        REQUEST_TIMEOUT_MS: '5000',
        ...queueEnv(config),
      });

      const random = seededRandom(SEED + 1);
      const published = new Map<string, EventInput>();
      let failedPublishes = 0;
      let stop = false;
      // A steady producer, about 2000 events a second, from before the cut to after it.
      const publishing = (async () => {
        for (let batch = 0; !stop; batch++) {
          const events = makeBatch('p', batch, tenants, random);
          await Promise.all(
            messagesOf(events).map((m) =>
              nats!.publish(m.org, m.body).catch(() => {
                failedPublishes++;
              }),
            ),
          );
          for (const event of events) published.set(eventKey(event), event);
          await new Promise((resolve) => setTimeout(resolve, 40));
        }
      })();

      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await eventually(async () => (await nats!.backlog()) < 500, 'the consumer to keep up before the cut');
      await proxy.cut();
      const cutAt = Date.now();
      const lags: number[] = [];
      while (Date.now() - cutAt < 20_000) {
        lags.push(await nats.backlog());
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      assert.ok(Math.max(...lags) > 100, `the backlog grew while the database was away: ${lags.join(', ')}`);
      await proxy.open();
      const restoredAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      stop = true;
      await publishing;
      assert.equal(failedPublishes, 0, 'publishes failed');
      await eventually(async () => (await nats!.backlog()) === 0, 'the backlog to drain', 60_000);
      const drainedIn = Date.now() - restoredAt;
      consumer.child.kill('SIGTERM');
      assert.deepEqual(await consumer.exited, { code: 0, signal: null });
      assert.deepEqual(await nats.deadLetters(), []);
      await assertStoredOnce(database, adminKey, published);
      process.stderr.write(
        `[queue outage] ${published.size} events, backlog during the cut ${lags.join(' ')}, drained ${(drainedIn / 1000).toFixed(1)} s after the database came back\n`,
      );
    });
  });
}

if (DIALECTS.includes('sqlite')) {
  describe('the documented producer [sqlite]', () => {
    const config = queueConfig();
    let database: TestDatabase | undefined;
    let nats: Producer | undefined;
    let consumer: Consumer | undefined;
    const script = fromRoot(`producer-${config.subjectPrefix}.mjs`);
    after(async () => {
      await kill(consumer, 'SIGKILL');
      fs.rmSync(script, { force: true });
      await nats?.close();
      await database?.drop();
    });

    it('publishes an event that the consumer stores', async () => {
      database = await createTestDatabase('sqlite');
      const { adminKey, tenants } = await tenantsOf(database);
      const orgId = tenants[0]!.orgId;
      nats = await producer(config);
      consumer = await startConsumer({
        ...database.env,
        ...queueEnv(config),
      });
      const docs = fs.readFileSync(fromRoot('docs', 'operations.md'), 'utf8');
      const code = /A producer, with the official client[^\n]*\n\n```js\n([\s\S]*?)```/.exec(docs)?.[1];
      assert.ok(code, 'the producer in docs/operations.md');
      // In the project's folder, so that it finds the client in node_modules.
      fs.writeFileSync(
        script,
        code
          .replaceAll('nats://127.0.0.1:4222', config.url)
          .replaceAll('freddy.usage.', `${config.subjectPrefix}.usage.`)
          .replaceAll('org_abc123', orgId),
      );
      const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(run.status, 0, run.stderr);
      await eventually(async () => (await nats!.backlog()) === 0, 'the message to be written');
      await kill(consumer, 'SIGTERM');
      const server = await startServerProcess({ ...database.env });
      try {
        const summary = await summaryOf(server.url, adminKey, orgId);
        assert.equal(summary.totalRequests, 1);
        assert.equal(summary.totalNeurons, 120);
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    });
  });
}
