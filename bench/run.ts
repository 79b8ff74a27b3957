/**
 * `npm run bench`: ingestion, query latency against database size, and HTTP throughput of a
 * real server process, each against a baseline measured in the same run. See README
 * "Performance". Options: --engine sqlite|postgres|both, --events N, --clients N,
 * --duration SECONDS (autocannon), --samples N, --out DIR, --cpu-prof DIR, --smoke.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { fromRoot } from '../src/project-root.ts';
import type { EngineName } from '../src/storage/storage.ts';
import { Client, createTenants } from './client.ts';
import type { EventStreamOptions, Tenancy } from './data.ts';
import { compareGrainIngestion } from './grains.ts';
import { ingestBaseline, ingestOverHttp } from './ingest.ts';
import {
  measureRawScans,
  measureRoutes,
  type Probe,
  probeFor,
  ROUTES,
  type RouteName,
  routeRequest,
} from './latency.ts';
import { compareQueueIngestion, NATS_URL, natsReachable, type QueueComparison } from './queue.ts';
import { type EngineResult, machine, ratio, writeReport } from './report.ts';
import {
  createDatabase,
  enginesOption,
  POSTGRES_URL,
  positiveIntegerOption,
  postgresSettingWarningsOf,
  startServer,
} from './server.ts';
import { measureAuthorizeWithRedis } from './shared-state.ts';
import { measureThroughput } from './throughput.ts';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'both' },
    events: { type: 'string' },
    clients: { type: 'string', default: '4' },
    duration: { type: 'string' },
    samples: { type: 'string' },
    out: { type: 'string' },
    'cpu-prof': { type: 'string' },
    smoke: { type: 'boolean', default: false },
  },
});

const smoke = values.smoke;
const events = positiveIntegerOption('events', values.events ?? (smoke ? '3000' : '1000000'));
const clients = positiveIntegerOption('clients', values.clients);
const seconds = positiveIntegerOption('duration', values.duration ?? (smoke ? '1' : '10'));
const samples = positiveIntegerOption('samples', values.samples ?? (smoke ? '20' : '1000'));
const smallEvents = smoke ? 1_000 : 10_000;
const tenancy: Tenancy = smoke ? { orgs: 5, keysPerOrg: 4 } : { orgs: 300, keysPerOrg: 10 };
const outDir = values.out ?? fromRoot('bench', 'results');
const engines = enginesOption(values.engine);

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

async function engineVersion(dialect: EngineName): Promise<string> {
  if (dialect === 'sqlite') {
    const db = new SQLite(':memory:');
    const version = (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
    db.close();
    return `SQLite ${version}`;
  }
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  const { rows } = await client.query('show server_version');
  await client.end();
  return `PostgreSQL ${rows[0].server_version}`;
}

/** A database with tenants and `count` events, served by a fresh process; `work` runs against it. */
async function withLoadedServer<T>(
  dialect: EngineName,
  count: number,
  nodeFlags: string[],
  work: (ctx: Awaited<ReturnType<typeof loadedServer>>) => Promise<T>,
): Promise<T> {
  const database = await createDatabase(dialect);
  try {
    const ctx = await loadedServer(database, count, nodeFlags);
    try {
      return await work(ctx);
    } finally {
      await ctx.server.stop();
    }
  } finally {
    await database.drop();
  }
}

async function loadedServer(database: Awaited<ReturnType<typeof createDatabase>>, count: number, flags: string[]) {
  const server = await startServer(database, flags);
  const { adminKey } = server;
  if (!adminKey) throw new Error('the server printed no first admin key');
  const admin = new Client(server.url, adminKey, 6);
  const tenants = await createTenants(admin, tenancy);
  admin.close();
  const end = Date.now() - 60_000;
  const stream = (withCost: boolean, n: number, idPrefix: string, seed: number): EventStreamOptions => ({
    count: n,
    tenancy,
    keyIds: tenants.keyIds,
    end,
    withCost,
    idPrefix,
    seed,
  });
  log(`${database.dialect}: ingesting ${count} events through the API`);
  const probe = probeFor(tenants.probeKeyId, Date.now());
  const summary = { secret: tenants.probeSecret, path: routeRequest(probe, 'usage summary').path };
  const http = await ingestOverHttp(server.url, adminKey, stream(true, count, 'e', 7), clients, summary);
  return { database, server, adminKey, tenants, stream, http, probe };
}

/**
 * The routes answered by their rollup queries: a second server process on the same database
 * with the read memo off, since nothing writes while latency is measured and the first one
 * would answer all but the first request of each route from memory.
 */
async function measureQueries(
  database: Awaited<ReturnType<typeof createDatabase>>,
  secret: string,
  probe: Probe,
  routes: readonly RouteName[] = ROUTES,
) {
  const server = await startServer(database, [], { READ_MEMO_ENTRIES: '0' });
  try {
    return await measureRoutes(server.url, secret, probe, samples, routes);
  } finally {
    await server.stop();
  }
}

async function benchEngine(dialect: EngineName): Promise<EngineResult> {
  const info = machine(await engineVersion(dialect));
  const flags = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values['cpu-prof'])}`] : [];
  // Without autovacuum, the rollups would keep every row version the load left behind, which
  // no server run as PostgreSQL ships would: the loaded databases are vacuumed as it would have.
  const vacuums = dialect === 'postgres' && (await postgresSettingWarningsOf()).length > 0;
  if (vacuums) info.engine += ', autovacuum off';

  const small = await withLoadedServer(dialect, smallEvents, [], async (ctx) => {
    if (vacuums) await ctx.database.vacuum();
    log(`${dialect}: latency at ${smallEvents} events`);
    const memo = await measureRoutes(ctx.server.url, ctx.tenants.probeSecret, ctx.probe, samples);
    const queries = await measureQueries(ctx.database, ctx.tenants.probeSecret, ctx.probe);
    log(`${dialect}: the budget check with the rate limit in Redis and without`);
    const sharedState = await measureAuthorizeWithRedis(ctx.database, ctx.tenants.probeSecret, ctx.probe, samples);
    return { memo, queries, sharedState };
  });

  const big = await withLoadedServer(dialect, events, flags, async (ctx) => {
    const { server, tenants, probe } = ctx;
    log(`${dialect}: ${ctx.http.eventsPerSecond} events/s; now without stated costs`);
    const noCost = ctx.stream(false, Math.max(1_000, Math.round(events / 10)), 'p', 11);
    const httpWithoutCost = await ingestOverHttp(server.url, ctx.adminKey, noCost, clients);
    const peakRssMiB = server.peakRssMiB();
    let queriesBigUnvacuumed: Awaited<ReturnType<typeof measureQueries>> | undefined;
    if (vacuums) {
      log(`${dialect}: latency at ${events} events before VACUUM`);
      // Not the budget check: each one holds a reservation for minutes, and a second round of
      // them would weigh on the figures measured after the VACUUM.
      const reads = ROUTES.filter((route) => route !== 'authorize');
      queriesBigUnvacuumed = await measureQueries(ctx.database, tenants.probeSecret, probe, reads);
      await ctx.database.vacuum();
    }
    log(`${dialect}: latency at ${events} events, then raw scans`);
    const latencyBig = await measureRoutes(server.url, tenants.probeSecret, probe, samples);
    const queriesBig = await measureQueries(ctx.database, tenants.probeSecret, probe);
    const rawScanBig = await measureRawScans(ctx.database, probe, Math.max(5, Math.min(50, samples)));
    log(`${dialect}: throughput, ${seconds} s per route`);
    const throughput = await measureThroughput(server.url, tenants.probeSecret, probe, seconds);
    // The bulk baseline goes into a database of its own, with the same events.
    log(`${dialect}: bulk-insert baseline`);
    const baselineDb = await createDatabase(dialect);
    const bulk = await ingestBaseline(baselineDb, ctx.stream(true, events, 'e', 7), clients).finally(() =>
      baselineDb.drop(),
    );
    return {
      http: ctx.http,
      httpWithoutCost,
      peakRssMiB,
      latencyBig,
      queriesBig,
      queriesBigUnvacuumed,
      rawScanBig,
      throughput,
      bulk,
    };
  });

  // With the breakdown's end-user and tag rows against without them: the same events with and without those fields.
  const grainEvents = Math.min(events, 200_000);
  log(`${dialect}: ${grainEvents} events with end users, tags and parts, and without them (×2 each)`);
  const grains = await compareGrainIngestion(dialect, grainEvents, clients, tenancy, log);
  log(`${dialect}: with ${grains.withFields} events/s, without ${grains.withoutFields} (${grains.ratio})`);

  // Through NATS against through HTTP, same events, same run (when a NATS server answers).
  let queue: QueueComparison | undefined;
  if (await natsReachable()) {
    const queueEvents = Math.min(events, 200_000);
    log(`${dialect}: ${queueEvents} events through HTTP, then through NATS JetStream`);
    queue = await compareQueueIngestion(dialect, queueEvents, clients, tenancy);
    log(`${dialect}: NATS ${queue.nats.eventsPerSecond} events/s, HTTP ${queue.http.eventsPerSecond} (${queue.ratio})`);
  } else {
    log(`${dialect}: no NATS JetStream at ${NATS_URL} (BENCH_NATS_URL): ingestion through NATS not measured`);
  }

  info.loadAverageEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);
  return {
    engine: dialect,
    date: new Date().toISOString().slice(0, 10),
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    machine: info,
    events,
    clients,
    ingestion: {
      http: big.http,
      httpWithoutCost: big.httpWithoutCost,
      bulkBaseline: big.bulk,
      ratioToBaseline: ratio(big.http.eventsPerSecond, big.bulk.eventsPerSecond),
      peakRssMiB: big.peakRssMiB,
      summaryWhileIngesting: big.http.readsWhileIngesting,
      grains,
      ...(queue ? { queue } : {}),
    },
    latency: {
      smallEvents,
      small: small.queries,
      big: big.queriesBig,
      ...(big.queriesBigUnvacuumed ? { bigBeforeVacuum: big.queriesBigUnvacuumed } : {}),
      rawScanBig: big.rawScanBig,
      memo: { small: small.memo, big: big.latencyBig },
    },
    throughput: big.throughput,
    sharedState: small.sharedState,
  };
}

for (const dialect of engines) {
  const result = await benchEngine(dialect);
  const files = writeReport(result, outDir);
  log(`${dialect}: wrote ${files.markdown} and ${files.json}`);
  process.stdout.write(`${JSON.stringify({ engine: dialect, files })}\n`);
}
