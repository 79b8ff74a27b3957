/**
 * Queue ingestion while NATS itself dies: a NATS server of the test's own, SIGKILLed and started
 * again on its store twice while events are published. The consumer reconnects, the producer
 * (as a gateway would) sends again what failed, and every event is stored exactly once.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
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
import { createTestDatabase, DIALECTS, type EventInput, type TestDatabase } from '../harness.ts';
import { eventually, type Producer, producer, queueConfig } from '../queue.ts';
import { eventKey, makeBatch } from '../streaming-clients.ts';

const SEED = Number(process.env.QUEUE_SEED ?? Date.now() % 1_000_000);

/** A NATS server of the test's own (JetStream on, its store in a folder), that it can kill and start again. */
class PrivateNats {
  private child: ChildProcess | undefined;
  readonly store = fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-nats-'));
  port = 0;

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.store], {
      stdio: 'ignore',
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.once('error', (error) => reject(new Error(`nats-server could not start: ${error.message}`)));
      const deadline = Date.now() + 10_000;
      const probe = () => {
        const socket = net.connect(this.port, '127.0.0.1');
        socket.once('data', (greeting) => {
          socket.destroy();
          if (String(greeting).includes('"jetstream":true')) resolve();
          else reject(new Error(`nats-server on ${this.port} has no JetStream`));
        });
        socket.once('error', () => {
          socket.destroy();
          if (Date.now() > deadline) reject(new Error('nats-server did not listen within 10 s'));
          else setTimeout(probe, 50);
        });
      };
      probe();
    });
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async remove(): Promise<void> {
    await this.kill();
    fs.rmSync(this.store, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`queue ingestion while NATS restarts [${dialect}]`, () => {
    const natsServer = new PrivateNats();
    let database: TestDatabase | undefined;
    let nats: Producer | undefined;
    let consumer: Consumer | undefined;
    after(async () => {
      await kill(consumer, 'SIGKILL');
      await nats?.close().catch(() => undefined);
      await natsServer.remove();
      await database?.drop();
    });

    it('reconnects after each restart and stores every published event exactly once', async () => {
      await natsServer.start();
      const config = { ...queueConfig(), url: natsServer.url };
      database = await createTestDatabase(dialect);
      const { adminKey, tenants } = await tenantsOf(database);
      nats = await producer(config);
      consumer = await startConsumer({
        ...database.env,
        ...queueEnv(config),
      });

      const random = seededRandom(SEED + 2);
      const published = new Map<string, EventInput>();
      let retriedPublishes = 0;
      let stop = false;
      // A producer as a gateway would be: a publish that fails (NATS away) is sent again until
      // JetStream acknowledges it; one that was stored without its acknowledgement arriving is
      // stored twice, and must count once.
      const publishing = (async () => {
        for (let batch = 0; !stop; batch++) {
          const events = makeBatch('r', batch, tenants, random);
          for (const message of messagesOf(events)) {
            for (;;) {
              try {
                await nats!.publish(message.org, message.body);
                break;
              } catch {
                retriedPublishes++;
                await new Promise((resolve) => setTimeout(resolve, 100));
              }
            }
          }
          for (const event of events) published.set(eventKey(event), event);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();

      for (let restart = 0; restart < 2; restart++) {
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        await natsServer.kill();
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        await natsServer.start();
      }
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      stop = true;
      await publishing;
      await eventually(async () => (await nats!.backlog()) === 0, 'the backlog to drain', 60_000);
      consumer.child.kill('SIGTERM');
      assert.deepEqual(await consumer.exited, { code: 0, signal: null });
      assert.deepEqual(await nats.deadLetters(), []);
      assert.ok(retriedPublishes > 0, 'the producer saw NATS away');
      await assertStoredOnce(database, adminKey, published);
      process.stderr.write(
        `[queue nats restarts ${dialect}] ${published.size} events, ${retriedPublishes} publishes sent again\n`,
      );
    });
  });
}
