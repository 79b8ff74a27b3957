/**
 * Query latency alone, on databases kept between runs, so that two versions of the server can
 * be compared on the same data in the same run (the full bench makes and drops its databases).
 *
 *   node dist/bench/reads.js load --engine sqlite --events 1000000 --out db.json
 *     a database with the bench's tenants and events, loaded through the API; db.json says where.
 *     With --bulk, the events are inserted straight into usage_events and the rollups rebuilt from
 *     them month by month (much faster; the rollup rows are then laid out month by month rather
 *     than in the order ingestion writes them)
 *   node dist/bench/reads.js measure --db db.json [--db small.json] [--bin A --bin B]
 *       [--routes 'usage limits,heatmap (90 days)'] [--samples 300]
 *     each database served by each command line (default: this checkout's; a database's file may
 *     name its own in "bin") with the read memo off, all at once, the requests interleaved;
 *     prints p50 and p99, each p50 against the first route's, and the server's CPU per request
 *   node dist/bench/reads.js drop --db db.json
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { rebuildMonth } from '../src/modules/rollups/rebuild.ts';
import { openStorage } from '../src/storage/storage.ts';
import { addMonths, yearMonthOf } from '../src/time/calendar.ts';
import { Client, createTenants } from './client.ts';
import { type EventStreamOptions, orgId, SPAN_MS, type Tenancy } from './data.ts';
import { ingestBaseline, ingestOverHttp } from './ingest.ts';
import { percentiles, probeFor, ROUTES, type RouteName, routeRequest } from './latency.ts';
import {
  type BenchServer,
  BIN,
  benchDatabase,
  createDatabase,
  enginesOption,
  positiveIntegerOption,
  postgresSettingWarningsOf,
  startServer,
} from './server.ts';

interface KeptDatabase {
  engine: 'sqlite' | 'postgres';
  location: string;
  events: number;
  probeSecret: string;
  probeKeyId: string;
  /** The command line that serves this database when measured (e.g. a copy migrated by a newer version). */
  bin?: string;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    engine: { type: 'string', default: 'sqlite' },
    events: { type: 'string', default: '10000' },
    clients: { type: 'string', default: '4' },
    bulk: { type: 'boolean', default: false },
    out: { type: 'string' },
    db: { type: 'string', multiple: true, default: [] },
    bin: { type: 'string', multiple: true, default: [] },
    routes: { type: 'string' },
    samples: { type: 'string', default: '300' },
  },
});

const tenancy: Tenancy = { orgs: 300, keysPerOrg: 10 };
const log = (line: string) => process.stderr.write(`[reads] ${line}\n`);
const readKept = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as KeptDatabase;

async function load(): Promise<void> {
  const [engine] = enginesOption(values.engine);
  const events = positiveIntegerOption('events', values.events);
  if (!engine || !values.out) throw new Error('load: --engine sqlite|postgres and --out FILE');
  const database = await createDatabase(engine);
  const server = await startServer(database);
  let running = true;
  let probe: Pick<KeptDatabase, 'probeSecret' | 'probeKeyId'>;
  try {
    const admin = new Client(server.url, server.adminKey!, 6);
    const tenants = await createTenants(admin, tenancy);
    admin.close();
    probe = { probeSecret: tenants.probeSecret, probeKeyId: tenants.probeKeyId };
    const stream: EventStreamOptions = {
      count: events,
      tenancy,
      keyIds: tenants.keyIds,
      end: Date.now() - 60_000,
      withCost: true,
      idPrefix: 'e',
      seed: 7,
    };
    const started = performance.now();
    const clients = positiveIntegerOption('clients', values.clients);
    if (values.bulk) {
      running = false;
      await server.stop();
      await ingestBaseline(database, stream, clients);
      log(
        `${engine}: events inserted in ${Math.round((performance.now() - started) / 1000)} s; rebuilding the rollups`,
      );
      await rebuildAll(database.config, stream.end);
    } else {
      await ingestOverHttp(server.url, server.adminKey!, stream, clients);
    }
    log(`${engine}: ${events} events in ${Math.round((performance.now() - started) / 1000)} s`);
  } finally {
    if (running) await server.stop();
  }
  // As the full bench: where autovacuum is off, the database is vacuumed as it would have done.
  if (engine === 'postgres' && (await postgresSettingWarningsOf()).length > 0) await database.vacuum();
  const kept: KeptDatabase = { engine, location: database.location, events, ...probe };
  fs.writeFileSync(values.out, `${JSON.stringify(kept, null, 2)}\n`);
  log(`kept in ${values.out}`);
}

/** Every rollup of every month of the span, rebuilt from the raw events, one transaction per month. */
async function rebuildAll(config: Parameters<typeof openStorage>[0], end: number): Promise<void> {
  const storage = await openStorage(config);
  try {
    const organizations = Array.from({ length: tenancy.orgs }, (_, i) => orgId(i));
    const last = yearMonthOf(end);
    for (let month = yearMonthOf(end - SPAN_MS); month.year * 12 + month.month <= last.year * 12 + last.month; ) {
      await storage.transaction((trx) => rebuildMonth(trx, month, organizations));
      month = addMonths(month, 1);
    }
  } finally {
    await storage.close();
  }
}

/**
 * Every database served by each command line (or by the one its file names), all servers at
 * once, and the requests interleaved: sample after sample, each route asked of each server in
 * turn, so that the load of a shared machine weighs on every figure alike and the ratios
 * between them hold.
 */
async function measure(): Promise<void> {
  const kept = values.db.map(readKept);
  const routes = (values.routes?.split(',') ?? ROUTES.filter((r) => r !== 'authorize')) as RouteName[];
  for (const route of routes) if (!ROUTES.includes(route)) throw new Error(`unknown route ${route}`);
  const samples = positiveIntegerOption('samples', values.samples);
  const pairs = kept.flatMap((db) =>
    (db.bin ? [db.bin] : values.bin.length > 0 ? values.bin : [BIN]).map((bin) => ({ db, bin })),
  );
  const servers: BenchServer[] = [];
  const lines = [
    '| engine | events | server | route | p50 ms | p99 ms | p50 / first route | server CPU µs/request |',
    '| --- | ---: | --- | --- | ---: | ---: | ---: | ---: |',
  ];
  try {
    for (const { db, bin } of pairs) {
      const database = benchDatabase(db.engine, db.location);
      servers.push(await startServer(database, [], { READ_MEMO_ENTRIES: '0' }, bin));
    }
    const clients = pairs.map(({ db }, p) => new Client(servers[p]!.url, db.probeSecret, 1));
    const requests = pairs.map(({ db }) => {
      const probe = probeFor(db.probeKeyId, Date.now());
      return routes.map((route) => routeRequest(probe, route));
    });
    const times = pairs.map(() => routes.map(() => [] as number[]));
    for (let i = -Math.min(50, samples); i < samples; i++) {
      for (const r of routes.keys()) {
        for (const [p, client] of clients.entries()) {
          const { method, path, body } = requests[p]![r]!;
          const started = performance.now();
          const reply = await client.request(method, path, body);
          const ms = performance.now() - started;
          if (reply.status !== 200)
            throw new Error(`${routes[r]} answered ${reply.status}: ${reply.body.slice(0, 300)}`);
          if (i >= 0) times[p]![r]!.push(ms);
        }
      }
    }
    // CPU time of the server process per request, route by route: far less moved by the
    // machine's load than wall time (the database server's own CPU is not in it).
    const cpu = pairs.map(() => routes.map(() => 0));
    for (const r of routes.keys()) {
      for (const [p, client] of clients.entries()) {
        const { method, path, body } = requests[p]![r]!;
        const before = cpuMs(servers[p]!.pid);
        for (let i = 0; i < samples; i++) await client.request(method, path, body);
        cpu[p]![r] = Math.round(((cpuMs(servers[p]!.pid) - before) * 1000) / samples);
      }
    }
    for (const client of clients) client.close();
    for (const [p, { db, bin }] of pairs.entries()) {
      const figures = times[p]!.map(percentiles);
      for (const [r, route] of routes.entries()) {
        const { p50, p99 } = figures[r]!;
        const relative = Math.round((p50 / figures[0]!.p50) * 100) / 100;
        lines.push(
          `| ${db.engine} | ${db.events} | ${bin} | ${route} | ${p50} | ${p99} | ${relative} | ${cpu[p]![r]} |`,
        );
      }
    }
  } finally {
    for (const server of servers) await server.stop();
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** User and system CPU time of a process so far, all threads, in ms. */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime, fields 14 and 15 of stat(5), counted from the state (field 3).
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}

/** Clock ticks per second of /proc times (USER_HZ), 100 on Linux. */
const CLOCK_TICKS = 100;

async function drop(): Promise<void> {
  for (const file of values.db) {
    const db = readKept(file);
    await benchDatabase(db.engine, db.location).drop();
    fs.rmSync(file);
  }
}

const command = positionals[0];
if (command === 'load') await load();
else if (command === 'measure') await measure();
else if (command === 'drop') await drop();
else throw new Error('reads: load, measure or drop');
