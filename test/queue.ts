/**
 * NATS JetStream for the queue ingestion tests: names of a test's own (a stream and a subject
 * prefix, so that test files running at once never share a consumer), a producer, the dead
 * letters as stored, and the deletion of both streams afterwards.
 */
import { randomBytes } from 'node:crypto';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsIngestConfig } from '../src/config.ts';
import { DEAD_REASON_HEADER, DEAD_SUBJECT_HEADER, QUEUE_CONSUMER } from '../src/modules/ingestion/queue.ts';

export const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export function queueConfig(): NatsIngestConfig {
  const id = randomBytes(5).toString('hex');
  return { url: NATS_URL, stream: `T_${id.toUpperCase()}`, subjectPrefix: `t${id}` };
}

export interface DeadLetter {
  subject: string;
  originalSubject: string;
  reason: string;
  body: string;
}

export interface Producer {
  /** Publishes `body` (JSON unless a string or bytes) on `<prefix>.usage.<org>`; resolves once JetStream stored it. */
  publish(org: string, body: unknown): Promise<void>;
  /** Messages of the stream not yet acknowledged by the consumer (delivered or not). */
  backlog(): Promise<number>;
  deadLetters(): Promise<DeadLetter[]>;
  /** Deletes the test's streams and closes the connection. */
  close(): Promise<void>;
}

export async function producer(config: NatsIngestConfig): Promise<Producer> {
  const nc = await connect({ servers: config.url });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  return {
    async publish(org, body) {
      const data = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
      await js.publish(`${config.subjectPrefix}.usage.${org}`, data);
    },
    async backlog() {
      const info = await jsm.consumers.info(config.stream, QUEUE_CONSUMER);
      return info.num_pending + info.num_ack_pending;
    },
    async deadLetters() {
      const stream = `${config.stream}_DEAD`;
      const { state } = await jsm.streams.info(stream);
      if (state.messages === 0) return [];
      const name = `read_${randomBytes(4).toString('hex')}`;
      await jsm.consumers.add(stream, { durable_name: name, ack_policy: AckPolicy.None });
      const consumer = await js.consumers.get(stream, name);
      const letters: DeadLetter[] = [];
      const batch = await consumer.fetch({ max_messages: state.messages, expires: 2_000 });
      for await (const m of batch) {
        letters.push({
          subject: m.subject,
          originalSubject: m.headers?.get(DEAD_SUBJECT_HEADER) ?? '',
          reason: m.headers?.get(DEAD_REASON_HEADER) ?? '',
          body: m.string(),
        });
        if (letters.length === state.messages) break;
      }
      await jsm.consumers.delete(stream, name);
      return letters;
    },
    async close() {
      for (const stream of [config.stream, `${config.stream}_DEAD`]) {
        await jsm.streams.delete(stream).catch(() => undefined);
      }
      await nc.close();
    },
  };
}

/** Resolves once `check()` answers true, trying every 20 ms; fails after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting after ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
