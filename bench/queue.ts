/**
 * Ingestion through NATS JetStream against ingestion through HTTP, in the same run: the same
 * events (same seed, same count) into two fresh databases, each served by a fresh server
 * process. Over HTTP, `clients` concurrent connections post batches of 1000; through NATS, one
 * producer publishes them to a server with INGEST_NATS_URL in messages of up to 1000 events of
 * one organization (the subject names it), batched per organization as a gateway would, and
 * the time runs from the first publish until the consumer has acknowledged every message, that
 * is until every event is committed.
 */
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { QUEUE_CONSUMER } from '../src/modules/ingestion/queue.ts';
import type { EngineName } from '../src/storage/storage.ts';
import { Client, createTenants } from './client.ts';
import { type BenchEvent, type EventStreamOptions, eventBatches, type Tenancy } from './data.ts';
import { BATCH, type IngestFigures, ingestOverHttp } from './ingest.ts';
import { type BenchServer, createDatabase, startServer } from './server.ts';

export const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';

export interface QueueComparison {
  http: IngestFigures;
  nats: IngestFigures & { messages: number };
  /** NATS events/s over HTTP events/s (target ≥ 0.8). */
  ratio: number;
}

/** Whether a NATS server with JetStream answers at NATS_URL. */
export async function natsReachable(): Promise<boolean> {
  try {
    const nc = await connect({ servers: NATS_URL, timeout: 2_000, reconnect: false });
    try {
      await (await jetstreamManager(nc)).getAccountInfo();
      return true;
    } finally {
      await nc.close();
    }
  } catch {
    return false;
  }
}

/** A database with the bench's tenants, served by a fresh process with `env`; `work` runs against it. */
async function withTenants<T>(
  dialect: EngineName,
  tenancy: Tenancy,
  env: Record<string, string>,
  work: (server: BenchServer, adminKey: string, keyIds: string[][]) => Promise<T>,
): Promise<T> {
  const database = await createDatabase(dialect);
  try {
    const server = await startServer(database, [], env);
    try {
      const adminKey = server.adminKey;
      if (!adminKey) throw new Error('the server printed no first admin key');
      const admin = new Client(server.url, adminKey, 6);
      const { keyIds } = await createTenants(admin, tenancy);
      admin.close();
      return await work(server, adminKey, keyIds);
    } finally {
      await server.stop();
    }
  } finally {
    await database.drop();
  }
}

export async function compareQueueIngestion(
  dialect: EngineName,
  count: number,
  clients: number,
  tenancy: Tenancy,
): Promise<QueueComparison> {
  const end = Date.now() - 60_000;
  const stream = (keyIds: string[][]): EventStreamOptions => ({
    count,
    tenancy,
    keyIds,
    end,
    withCost: true,
    idPrefix: 'q',
    seed: 13,
  });
  const http = await withTenants(dialect, tenancy, {}, (server, adminKey, keyIds) =>
    ingestOverHttp(server.url, adminKey, stream(keyIds), clients),
  );
  const id = randomBytes(4).toString('hex');
  const names = { stream: `BENCH_${id.toUpperCase()}`, prefix: `bench${id}` };
  const env = { INGEST_NATS_URL: NATS_URL, INGEST_NATS_STREAM: names.stream, INGEST_NATS_SUBJECT_PREFIX: names.prefix };
  const nats = await withTenants(dialect, tenancy, env, (server, _adminKey, keyIds) =>
    publishAndDrain(server, names, stream(keyIds)),
  );
  return { http, nats, ratio: Math.round((nats.eventsPerSecond / http.eventsPerSecond) * 100) / 100 };
}

async function publishAndDrain(
  server: BenchServer,
  names: { stream: string; prefix: string },
  stream: EventStreamOptions,
): Promise<IngestFigures & { messages: number }> {
  const nc = await connect({ servers: NATS_URL });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  try {
    let messages = 0;
    const started = performance.now();
    const inFlight = new Set<Promise<unknown>>();
    const publish = async (org: string, events: BenchEvent[]) => {
      const ack = js.publish(`${names.prefix}.usage.${org}`, JSON.stringify({ events }));
      const tracked = ack.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      messages++;
      // A bounded window of unacknowledged publishes, as a producer would keep.
      if (inFlight.size >= 64) await Promise.race(inFlight);
    };
    // The producer batches per organization, as an HTTP client batches: a message when an
    // organization has 1000 events, and what is left of each at the end.
    const pending = new Map<string, BenchEvent[]>();
    for (const batch of eventBatches(stream, BATCH)) {
      for (const event of batch) {
        const list = pending.get(event.organization_id) ?? [];
        list.push(event);
        pending.set(event.organization_id, list);
        if (list.length === BATCH) {
          pending.delete(event.organization_id);
          await publish(event.organization_id, list);
        }
      }
    }
    for (const [org, events] of pending) await publish(org, events);
    await Promise.all(inFlight);
    for (;;) {
      const info = await jsm.consumers.info(names.stream, QUEUE_CONSUMER);
      if (info.num_pending + info.num_ack_pending === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const ms = performance.now() - started;
    const { accepted, duplicates } = await queueEventCounts(server.url);
    const seconds = ms / 1000;
    return {
      events: stream.count,
      seconds: Math.round(seconds * 100) / 100,
      eventsPerSecond: Math.round(stream.count / seconds),
      accepted,
      duplicates,
      messages,
    };
  } finally {
    for (const name of [names.stream, `${names.stream}_DEAD`]) await jsm.streams.delete(name).catch(() => undefined);
    await nc.close();
  }
}

/** Events the server's consumer wrote, from its /metrics. */
async function queueEventCounts(url: string): Promise<{ accepted: number; duplicates: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sample = (outcome: string) =>
    Number(new RegExp(`^freddy_queue_events_total\\{outcome="${outcome}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { accepted: sample('accepted'), duplicates: sample('duplicate') };
}
