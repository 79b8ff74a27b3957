/**
 * Ingestion from NATS JetStream. Producers publish what they would post to
 * `POST /v1/usage/events` on `<prefix>.usage.<organization_id>`; every process configured with
 * INGEST_NATS_URL pulls from one durable consumer of the stream, so replicas share the work.
 *
 * Messages are gathered into batches of up to 1000 events or 50 ms, written through
 * ingestUsage like a request, and acknowledged only once their batch has committed. A batch
 * the database fails is not acknowledged: its messages come back after a delay (nak), as often
 * as it takes, so nothing is lost while the database is away, and event ids make a message
 * delivered twice count once. A message that can never be ingested (not JSON, a bad event,
 * an unknown organization) is published to `<prefix>.dead.<organization_id>` on a stream of
 * its own, with the reason in the `Freddy-Dead-Reason` header, and acknowledged: it never holds
 * the others up.
 */
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsIngestConfig } from '../../config.ts';
import { OPERATOR } from '../auth/principal.ts';
import type { UsageEventInput } from './event-input.ts';
import { MAX_BATCH } from './ingestion.schemas.ts';
import { type IngestionContext, ingestUsage, rejectedIndexes } from './ingestion.service.ts';
import { decodeMessage } from './queue-message.ts';

/** The durable consumer every replica pulls from. */
export const QUEUE_CONSUMER = 'freddy-analytics';
export const DEAD_REASON_HEADER = 'Freddy-Dead-Reason';
export const DEAD_SUBJECT_HEADER = 'Freddy-Original-Subject';

/** Where the consumer reports what happens to it; a pino logger fits. */
export interface QueueLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface QueueOptions {
  /** Events per batch, at most (and the route's limit): 1000. */
  maxBatchEvents?: number;
  /** Milliseconds the first message of a batch waits for others: 50. */
  maxWaitMs?: number;
  /**
   * Batches written at once by this process: 4, as many as the benchmark's HTTP clients, so that
   * the SQLite writer can commit several together (PostgreSQL writes DATABASE_INGEST_CONCURRENCY
   * of them at once and queues the others).
   */
  concurrency?: number;
  /** Delay before a message of a failed batch comes back, per delivery so far, capped at 5 s. */
  retryDelayMs?: number;
}

/** What this process did since it started. */
export interface QueueCounts {
  /** Messages acknowledged after their batch committed. */
  acked: number;
  /** Messages sent to the dead letters. */
  deadLetters: number;
  /** Messages given back after a failed batch (they come back later). */
  retried: number;
  /** Messages that arrived for a second time or more. */
  redelivered: number;
  /** Batches written (each one transaction). */
  batches: number;
  /** Events stored, and events acknowledged as already stored. */
  accepted: number;
  duplicates: number;
}

/** The consumer and the dead letters as JetStream sees them, shared by every replica. */
export interface QueueState {
  /** Messages in the stream not yet delivered to any replica. */
  pending: number;
  /** Messages delivered and not yet acknowledged. */
  ackPending: number;
  /** Messages delivered more than once and not yet acknowledged. */
  redelivered: number;
  /** Messages kept in the dead-letter stream. */
  deadLetters: number;
}

interface Item {
  message: JsMsg;
  events: UsageEventInput[];
}

/** How long JetStream waits for an acknowledgement before it delivers a message again. */
const ACK_WAIT_MS = 10_000;

type NatsLibraries = typeof import('@nats-io/jetstream') & typeof import('@nats-io/transport-node');

async function loadNatsLibraries(): Promise<NatsLibraries> {
  const [jetstream, transport] = await Promise.all([import('@nats-io/jetstream'), import('@nats-io/transport-node')]);
  return { ...jetstream, ...transport };
}

/**
 * Messages asked for at a time, and so at most held by the client beyond what the process
 * holds: enough to fill batches of single events quickly, few enough that messages of 1000
 * events (about 200 KB each) stay within tens of megabytes.
 */
const PULL_MESSAGES = 256;

const DEFAULTS: Required<QueueOptions> = {
  maxBatchEvents: MAX_BATCH,
  maxWaitMs: 50,
  concurrency: 4,
  retryDelayMs: 1000,
};

export class QueueIngestion {
  readonly counts: QueueCounts = {
    acked: 0,
    deadLetters: 0,
    retried: 0,
    redelivered: 0,
    batches: 0,
    accepted: 0,
    duplicates: 0,
  };
  private readonly options: Required<QueueOptions>;
  private readonly usagePrefix: string;
  /** The NATS client libraries, loaded by start(): a process that does not consume never loads them. */
  private lib: NatsLibraries | undefined;
  private connection: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  private messages: ConsumerMessages | undefined;
  private pulling: Promise<void> | undefined;
  private buffer: Item[] = [];
  private bufferedEvents = 0;
  /** Events received and not yet acknowledged or given back: in the buffer, or being written. */
  private heldEvents = 0;
  /** Messages received and not yet acknowledged or given back. */
  private readonly held = new Set<JsMsg>();
  private heartbeat: NodeJS.Timeout | undefined;
  private roomWaiter: (() => void) | undefined;
  private firstBufferedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopping: Promise<void> | undefined;
  private log: QueueLog = { info() {}, warn() {}, error() {} };

  constructor(
    private readonly ctx: IngestionContext,
    readonly config: Readonly<NatsIngestConfig>,
    options: QueueOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.usagePrefix = `${config.subjectPrefix}.usage`;
  }

  /** Events this process holds at most before it takes more messages: two rounds of batches. */
  private get highWater(): number {
    return 2 * this.options.concurrency * this.options.maxBatchEvents;
  }

  get deadStream(): string {
    return `${this.config.stream}_DEAD`;
  }

  /** Connects, creates the streams and the consumer when missing, and starts pulling. */
  async start(log?: QueueLog): Promise<void> {
    if (log) this.log = log;
    this.lib ??= await loadNatsLibraries();
    const { connect, jetstream, jetstreamManager } = this.lib;
    const connection = await connect({
      servers: this.config.url.split(',').map((s) => s.trim()),
      name: 'freddy-analytics',
      maxReconnectAttempts: -1,
    }).catch((error: unknown) => {
      throw new Error(`INGEST_NATS_URL: cannot reach NATS at ${this.config.url} (${(error as Error).message})`);
    });
    this.connection = connection;
    try {
      this.jsm = await jetstreamManager(connection, { timeout: 5_000 });
      this.js = jetstream(connection, { timeout: 5_000 });
      await this.ensureStreams(this.jsm);
      const consumer = await this.js.consumers.get(this.config.stream, QUEUE_CONSUMER);
      // Read as an iterator: the client asks for more only as this loop takes messages, and
      // the loop waits while the process holds enough events for its batches (backpressure),
      // so nothing waits here long enough to be redelivered elsewhere.
      const messages = await consumer.consume({ max_messages: PULL_MESSAGES });
      this.messages = messages;
      this.pulling = (async () => {
        for await (const message of messages) {
          this.receive(message);
          while (!this.stopping && this.heldEvents >= this.highWater) {
            await new Promise<void>((resolve) => {
              this.roomWaiter = resolve;
            });
          }
        }
      })().catch((error: unknown) => {
        // The client recovers from lost connections and missing streams by itself; anything
        // else ends pulling in this process: logged, and the backlog in /metrics grows.
        this.log.error({ err: error }, 'pulling usage messages from NATS stopped');
      });
      // Messages held a while are reported as in progress, so that JetStream does not deliver
      // them again while they wait for a batch or are being written.
      this.heartbeat = setInterval(() => {
        for (const message of this.held) message.working();
      }, ACK_WAIT_MS / 3);
    } catch (error) {
      await connection.close();
      this.connection = undefined;
      throw error;
    }
    this.log.info(
      { stream: this.config.stream, subjects: `${this.usagePrefix}.>`, consumer: QUEUE_CONSUMER },
      'consuming usage events from NATS',
    );
  }

  private async ensureStreams(jsm: JetStreamManager): Promise<void> {
    const { stream } = this.config;
    const { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, nanos } = this.lib!;
    await addStreamUnlessThere(jsm, {
      name: stream,
      subjects: [`${this.usagePrefix}.>`],
      // A work queue: a message is gone once acknowledged, so the stream holds the backlog only.
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
    });
    await addStreamUnlessThere(jsm, {
      name: this.deadStream,
      subjects: [`${this.config.subjectPrefix}.dead.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
    });
    const existing = await jsm.consumers.info(stream, QUEUE_CONSUMER).catch(() => undefined);
    if (existing) return;
    await jsm.consumers.add(stream, {
      durable_name: QUEUE_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      // A consumer killed mid-batch holds its messages this long; one alive says it is still
      // working on them (the heartbeat in start) before it runs out.
      ack_wait: nanos(ACK_WAIT_MS),
      // Redelivered until written: a database away for hours loses nothing.
      max_deliver: -1,
      max_ack_pending: 20_000,
    });
  }

  private receive(message: JsMsg): void {
    if (message.info.deliveryCount > 1) this.counts.redelivered++;
    if (this.stopping) {
      message.nak();
      return;
    }
    this.held.add(message);
    const publishedAt = Number(message.timestampNanos / 1_000_000n);
    const decoded = decodeMessage(message.subject, this.usagePrefix, message.data, publishedAt);
    if ('reason' in decoded) {
      this.track(this.deadLetter(message, decoded.organizationId, decoded.reason));
      return;
    }
    if (this.buffer.length === 0) this.firstBufferedAt = Date.now();
    this.buffer.push({ message, events: decoded.events });
    this.bufferedEvents += decoded.events.length;
    this.heldEvents += decoded.events.length;
    this.dispatch();
  }

  /** Starts batches while there is room: a full one at once, a partial one after maxWaitMs. */
  private dispatch(): void {
    const { maxBatchEvents, maxWaitMs, concurrency } = this.options;
    while (this.buffer.length > 0 && this.inFlight.size < concurrency) {
      const waited = Date.now() - this.firstBufferedAt;
      if (this.bufferedEvents < maxBatchEvents && waited < maxWaitMs && !this.stopping) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.dispatch();
        }, maxWaitMs - waited);
        return;
      }
      const batch = this.takeBatch();
      this.track(
        this.write(batch).finally(() => {
          for (const item of batch) {
            this.heldEvents -= item.events.length;
            this.held.delete(item.message);
          }
        }),
      );
    }
  }

  private takeBatch(): Item[] {
    let count = 0;
    let events = 0;
    for (const item of this.buffer) {
      if (count > 0 && events + item.events.length > this.options.maxBatchEvents) break;
      count++;
      events += item.events.length;
    }
    this.bufferedEvents -= events;
    this.firstBufferedAt = Date.now();
    return this.buffer.splice(0, count);
  }

  private track(work: Promise<void>): void {
    const done = work
      .catch((error: unknown) => this.log.error({ err: error }, 'queue ingestion failed'))
      .finally(() => {
        this.inFlight.delete(done);
        this.dispatch();
        this.roomWaiter?.();
        this.roomWaiter = undefined;
      });
    this.inFlight.add(done);
  }

  /**
   * Writes the events of `batch` in one transaction and acknowledges its messages. Messages
   * whose events ingestion refuses go to the dead letters and the others are written again
   * without them; any other failure gives every message back for later.
   */
  private async write(batch: Item[]): Promise<void> {
    let pending = batch;
    try {
      while (pending.length > 0) {
        const rejected = await this.ingest(pending);
        if (rejected.size === 0) break;
        await Promise.all([...rejected].map(([item, reason]) => this.deadLetter(item.message, undefined, reason)));
        pending = pending.filter((item) => !rejected.has(item));
      }
    } catch (error) {
      for (const item of pending) {
        const delay = Math.min(this.options.retryDelayMs * item.message.info.deliveryCount, 5_000);
        item.message.nak(delay);
      }
      this.counts.retried += pending.length;
      this.log.warn(
        { err: error, messages: pending.length },
        'usage batch from NATS not written; its messages come back later',
      );
    }
  }

  /** Ingests the items' events; answers the items refused for their own events (and acks the rest). */
  private async ingest(items: Item[]): Promise<Map<Item, string>> {
    const events = items.flatMap((item) => item.events);
    try {
      const result = await ingestUsage(this.ctx, OPERATOR, events, Date.now());
      this.counts.batches++;
      this.counts.accepted += result.accepted;
      this.counts.duplicates += result.duplicates;
    } catch (error) {
      const byIndex = rejectedIndexes(error);
      if (!byIndex) throw error;
      const rejected = new Map<Item, string>();
      let start = 0;
      for (const item of items) {
        const reasons = item.events.flatMap((_, i) => {
          const reason = byIndex.get(start + i);
          return reason === undefined ? [] : [`events[${i}].${reason}`];
        });
        if (reasons.length > 0) rejected.set(item, reasons.join('; '));
        start += item.events.length;
      }
      return rejected;
    }
    for (const item of items) item.message.ack();
    this.counts.acked += items.length;
    return new Map();
  }

  /** Publishes the message with its reason on the dead-letter subject, then acknowledges it. */
  private async deadLetter(message: JsMsg, organizationId: string | undefined, reason: string): Promise<void> {
    const org = organizationId ?? message.subject.slice(this.usagePrefix.length + 1);
    const token = /^[A-Za-z0-9_-]+$/.test(org) ? org : '_';
    const h = this.lib!.headers();
    // A header value is one line.
    h.set(DEAD_REASON_HEADER, reason.replace(/[\r\n]+/g, ' ').slice(0, 2_000));
    h.set(DEAD_SUBJECT_HEADER, message.subject);
    try {
      await this.js!.publish(`${this.config.subjectPrefix}.dead.${token}`, message.data, { headers: h });
    } catch (error) {
      message.nak(this.options.retryDelayMs);
      this.held.delete(message);
      this.counts.retried++;
      this.log.warn({ err: error }, 'dead letter not published; the message comes back later');
      return;
    }
    message.ack();
    this.held.delete(message);
    this.counts.deadLetters++;
    this.log.warn({ subject: message.subject, reason }, 'usage message sent to the dead letters');
  }

  /** The consumer's backlog and the dead letters kept, read from JetStream; undefined when it does not answer. */
  async state(): Promise<QueueState | undefined> {
    const jsm = this.jsm;
    if (!jsm || this.connection?.isClosed()) return undefined;
    try {
      const [consumer, dead] = await Promise.all([
        jsm.consumers.info(this.config.stream, QUEUE_CONSUMER),
        jsm.streams.info(this.deadStream),
      ]);
      return {
        pending: consumer.num_pending,
        ackPending: consumer.num_ack_pending,
        redelivered: consumer.num_redelivered,
        deadLetters: dead.state.messages,
      };
    } catch {
      return undefined;
    }
  }

  /**
   * Stops pulling, gives back the messages not yet in a batch, lets the batches in flight
   * commit and acknowledge, then closes the connection once the acknowledgements are sent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.timer) clearTimeout(this.timer);
      this.messages?.stop();
      this.roomWaiter?.();
      await this.pulling;
      for (const item of this.buffer) {
        item.message.nak();
        this.held.delete(item.message);
        this.heldEvents -= item.events.length;
      }
      this.buffer = [];
      this.bufferedEvents = 0;
      while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
      clearInterval(this.heartbeat);
      if (this.connection && !this.connection.isClosed()) await this.connection.drain();
    })();
    return this.stopping;
  }
}

async function addStreamUnlessThere(
  jsm: JetStreamManager,
  config: Parameters<JetStreamManager['streams']['add']>[0],
): Promise<void> {
  const existing = await jsm.streams.info(config.name).catch(() => undefined);
  if (!existing) await jsm.streams.add(config);
}
