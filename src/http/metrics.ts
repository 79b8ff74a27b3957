/**
 * Prometheus metrics at /metrics: requests and their latency by route pattern (never the raw
 * URL, whose ids would make one series per organization), usage events ingested, reads reused,
 * database pool state and the usual process metrics. Each app has its own registry, so that
 * several apps in one process (tests) do not share counters.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AppContext } from '../context.ts';
import type { QueueIngestion, QueueState } from '../modules/ingestion/queue.ts';
import { SharedRateLimiter } from './shared-rate-limit.ts';

/** What the ingestion route reports after each accepted batch. */
export interface UsageMetrics {
  recordIngest(result: { accepted: number; duplicates: number; unpriced?: readonly string[] }): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: UsageMetrics;
  }
}

export const METRIC_NAMES = {
  requests: 'http_requests_total',
  duration: 'http_request_duration_seconds',
  ingested: 'freddy_usage_events_ingested_total',
  duplicates: 'freddy_usage_events_duplicate_total',
  unpriced: 'freddy_usage_events_unpriced_total',
  pool: 'freddy_db_pool_connections',
  reads: 'freddy_read_memo_lookups_total',
  queueLag: 'freddy_queue_lag_messages',
  queueAckPending: 'freddy_queue_ack_pending_messages',
  queueRedelivered: 'freddy_queue_redelivered_messages',
  queueDeadStored: 'freddy_queue_dead_letters_stored',
  queueMessages: 'freddy_queue_messages_total',
  queueEvents: 'freddy_queue_events_total',
  rateLimitTokens: 'freddy_rate_limit_tokens_total',
} as const;

export function registerMetrics(
  app: FastifyInstance,
  ctx: Pick<AppContext, 'storage' | 'reads'> & Partial<Pick<AppContext, 'queue' | 'rateLimiter'>>,
): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const labelNames = ['method', 'route', 'status_code'] as const;

  const requests = new Counter({
    name: METRIC_NAMES.requests,
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames,
    registers,
  });
  const duration = new Histogram({
    name: METRIC_NAMES.duration,
    help: 'Time from receiving a request to finishing its answer, in seconds',
    labelNames,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const ingested = new Counter({
    name: METRIC_NAMES.ingested,
    help: 'Usage events stored and counted',
    registers,
  });
  const duplicates = new Counter({
    name: METRIC_NAMES.duplicates,
    help: 'Usage events acknowledged without counting them again (id already known)',
    registers,
  });
  const unpriced = new Counter({
    name: METRIC_NAMES.unpriced,
    help: 'Usage events stored without a cost because no price was in force',
    registers,
  });
  const { counts } = ctx.reads;
  new Counter({
    name: METRIC_NAMES.reads,
    help: 'Analytics reads answered from results kept since the last commit (hit) or from the database (miss)',
    labelNames: ['result'] as const,
    registers,
    collect() {
      // The counts live with the context, which several apps in one process may share.
      this.reset();
      this.inc({ result: 'hit' }, counts.hits);
      this.inc({ result: 'miss' }, counts.misses);
    },
  });
  if (ctx.storage.poolStats()) {
    // Read when scraped, so the numbers are the pool's at that moment.
    new Gauge({
      name: METRIC_NAMES.pool,
      help: 'PostgreSQL connection pool: open (total), idle, and requests waiting for a connection',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const pool = ctx.storage.poolStats();
        if (!pool) return;
        this.set({ state: 'total' }, pool.total);
        this.set({ state: 'idle' }, pool.idle);
        this.set({ state: 'waiting' }, pool.waiting);
      },
    });
  }

  if (ctx.queue) registerQueueMetrics(ctx.queue, registers);
  const limiter = ctx.rateLimiter;
  if (limiter instanceof SharedRateLimiter) {
    new Counter({
      name: METRIC_NAMES.rateLimitTokens,
      help: 'Rate-limit decisions with REDIS_URL by where the token came from: redis (asked for it), lease (one this process held), local (Redis did not answer)',
      labelNames: ['source'] as const,
      registers,
      collect() {
        this.reset();
        this.inc({ source: 'redis' }, limiter.sharedAsks - limiter.fallbacks);
        this.inc({ source: 'lease' }, limiter.leaseSpends);
        this.inc({ source: 'local' }, limiter.fallbacks);
      },
    });
  }

  app.decorate('metrics', {
    recordIngest(result) {
      ingested.inc(result.accepted);
      duplicates.inc(result.duplicates);
      unpriced.inc(result.unpriced?.length ?? 0);
    },
  } satisfies UsageMetrics);

  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: reply.statusCode,
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        operationId: 'getMetrics',
        tags: ['operations'],
      },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
}

/**
 * NATS JetStream ingestion: the consumer's backlog, redeliveries and the dead letters kept, as
 * JetStream tells them when scraped (the same on every replica, since they share the consumer),
 * and what this process did with the messages it got.
 */
function registerQueueMetrics(queue: QueueIngestion, registers: Registry[]): void {
  // One read of JetStream per scrape, shared by the four gauges.
  let reading: Promise<QueueState | undefined> | undefined;
  const read = () => {
    reading ??= queue.state().finally(() => {
      setImmediate(() => {
        reading = undefined;
      });
    });
    return reading;
  };
  const gauge = (name: string, help: string, field: keyof QueueState) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const state = await read();
        // Unknown while JetStream does not answer: no sample rather than a wrong one.
        if (state) this.set(state[field]);
        else this.reset();
      },
    });
  gauge(METRIC_NAMES.queueLag, 'Usage messages in the stream that no consumer has received yet', 'pending');
  gauge(
    METRIC_NAMES.queueAckPending,
    'Usage messages received by a consumer and not yet acknowledged (being written, or to be redelivered)',
    'ackPending',
  );
  gauge(
    METRIC_NAMES.queueRedelivered,
    'Usage messages delivered more than once and not yet acknowledged',
    'redelivered',
  );
  gauge(METRIC_NAMES.queueDeadStored, 'Messages kept in the dead-letter stream', 'deadLetters');
  new Counter({
    name: METRIC_NAMES.queueMessages,
    help: 'Usage messages this process handled from NATS: acked (written), dead_letter, retried (given back after a failed write), redelivered (received again)',
    labelNames: ['outcome'] as const,
    registers,
    collect() {
      const { counts } = queue;
      this.reset();
      this.inc({ outcome: 'acked' }, counts.acked);
      this.inc({ outcome: 'dead_letter' }, counts.deadLetters);
      this.inc({ outcome: 'retried' }, counts.retried);
      this.inc({ outcome: 'redelivered' }, counts.redelivered);
    },
  });
  new Counter({
    name: METRIC_NAMES.queueEvents,
    help: 'Usage events this process wrote from NATS: accepted (stored and counted), duplicate (id already known)',
    labelNames: ['outcome'] as const,
    registers,
    collect() {
      const { counts } = queue;
      this.reset();
      this.inc({ outcome: 'accepted' }, counts.accepted);
      this.inc({ outcome: 'duplicate' }, counts.duplicates);
    },
  });
}
