/** The benchmark report: one JSON document and one Markdown page per engine and date. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GrainComparison } from './grains.ts';
import type { IngestFigures } from './ingest.ts';
import { BREAKDOWN_ROUTES, type Percentiles, ROUTES, type RouteName } from './latency.ts';
import type { QueueComparison } from './queue.ts';
import type { SharedStateFigures } from './shared-state.ts';
import type { Throughput } from './throughput.ts';

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  engine: string;
  os: string;
  loadAverageStart: number[];
  loadAverageEnd?: number[];
  commit: string;
}

export interface EngineResult {
  engine: 'sqlite' | 'postgres';
  date: string;
  command: string;
  machine: Machine;
  events: number;
  clients: number;
  ingestion: {
    http: IngestFigures;
    httpWithoutCost: IngestFigures;
    bulkBaseline: IngestFigures;
    ratioToBaseline: number;
    peakRssMiB: number;
    /** The usage summary, read every 10 ms by one more client during the `http` run. */
    summaryWhileIngesting?: Percentiles | undefined;
    /** The same events with end users, tags and parts and without them, fresh databases (bench/grains.ts). */
    grains?: GrainComparison;
    /** Through NATS JetStream against through HTTP, the same events into fresh databases (bench/queue.ts). */
    queue?: QueueComparison;
  };
  latency: {
    smallEvents: number;
    /** Answered by the rollup queries (READ_MEMO_ENTRIES=0). */
    small: Record<RouteName, Percentiles>;
    big: Record<RouteName, Percentiles>;
    /** With autovacuum off on the server: `big`'s reads (not authorize) before the databases were vacuumed. */
    bigBeforeVacuum?: Partial<Record<RouteName, Percentiles>>;
    rawScanBig: Record<RouteName, Percentiles>;
    /** The same requests to a server with the read memo on (the default). */
    memo: { small: Record<RouteName, Percentiles>; big: Record<RouteName, Percentiles> };
  };
  throughput: { constant: Throughput; routes: Record<string, Throughput> };
  /** The budget check with the rate limit's buckets in Redis and in the process (small database). */
  sharedState?: SharedStateFigures | undefined;
}

export function machine(engineVersion: string): Machine {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {}
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    engine: engineVersion,
    os: `${os.type()} ${os.release()}`,
    loadAverageStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    commit,
  };
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : Math.round((a / b) * 100) / 100);
const mark = (ok: boolean) => (ok ? 'met' : '**missed**');

export function writeReport(result: EngineResult, dir: string): { json: string; markdown: string } {
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${result.date}-${result.engine}`);
  fs.writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  fs.writeFileSync(`${base}.md`, markdown(result));
  return { json: `${base}.json`, markdown: `${base}.md` };
}

export function markdown(r: EngineResult): string {
  const m = r.machine;
  const ing = r.ingestion;
  const target = r.engine === 'sqlite' ? 50_000 : 30_000;
  const lines = [
    `# Benchmark: ${r.engine}, ${r.events.toLocaleString('en')} events, ${r.date}`,
    '',
    `Command: \`${r.command}\` (commit ${m.commit})`,
    '',
    `Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, ${m.engine}.`,
    `Load average (1, 5, 15 min) at start ${m.loadAverageStart.join(', ')}; at end ${(m.loadAverageEnd ?? []).join(', ')}.`,
    '',
    '## Ingestion (POST /v1/usage/events, batches of 1000)',
    '',
    `| run | events | s | events/s | accepted | duplicates |`,
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...[
      [`API, ${r.clients} clients, cost stated`, ing.http],
      ['API, cost from the price sheet', ing.httpWithoutCost],
      ['baseline: bulk insert, no rollups', ing.bulkBaseline],
    ].map(([name, f]) => {
      const x = f as IngestFigures;
      return `| ${name} | ${x.events} | ${x.seconds} | ${x.eventsPerSecond} | ${x.accepted} | ${x.duplicates} |`;
    }),
    '',
    `Ratio to the baseline: **${ing.ratioToBaseline}** (target ≥ 0.5: ${mark(ing.ratioToBaseline >= 0.5)}); ` +
      `${ing.http.eventsPerSecond} events/s (target ≥ ${target}: ${mark(ing.http.eventsPerSecond >= target)}). ` +
      `Peak RSS of the server: ${ing.peakRssMiB} MiB.`,
    '',
    ...(ing.summaryWhileIngesting
      ? [
          `Meanwhile one more client read the usage summary every 10 ms: p50 ${ing.summaryWhileIngesting.p50} ms, ` +
            `p99 ${ing.summaryWhileIngesting.p99} ms (${ing.summaryWhileIngesting.samples} reads).`,
          '',
        ]
      : []),
    ...grainSection(r),
    ...queueSection(r),
    `## Query latency (ms, one request at a time; ${r.latency.smallEvents} events vs ${r.events})`,
    '',
    'Answered by the rollup queries: a server with READ_MEMO_ENTRIES=0.',
    '',
    '| route | p50 small | p99 small | p50 big | p99 big | big/small p50 | raw scan p50 big | raw/ours |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...ROUTES.map((route) => {
      const s = r.latency.small[route];
      const b = r.latency.big[route];
      const raw = r.latency.rawScanBig[route];
      return `| ${route} | ${s.p50} | ${s.p99} | ${b.p50} | ${b.p99} | ${ratio(b.p50, s.p50)} | ${raw.p50} | ${ratio(raw.p50, b.p50)} |`;
    }),
    '',
    'Targets for the seed routes at the big size: p50 ≤ 2 ms, p99 ≤ 10 ms, big/small ≤ 1.5.',
    'Targets for hourly usage, the heatmap and the trends at 10M events: p50 ≤ 3 ms, p99 ≤ 15 ms.',
    '',
    ...breakdownSection(r),
    ...beforeVacuum(r),
    'With the read memo on (the default): nothing is written while measuring, so every request',
    'but the first of each route is answered from memory.',
    '',
    '| route | p50 small | p99 small | p50 big | p99 big |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...ROUTES.map((route) => {
      const s = r.latency.memo.small[route];
      const b = r.latency.memo.big[route];
      return `| ${route} | ${s.p50} | ${s.p99} | ${b.p50} | ${b.p99} |`;
    }),
    '',
    '## HTTP throughput (autocannon, 10 keep-alive connections)',
    '',
    'The server with the read memo on; nothing is written meanwhile.',
    '',
    '| route | requests/s | p50 ms | p99 ms | errors | ratio to /healthz |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    throughputRow('GET /healthz (baseline)', r.throughput.constant, r.throughput.constant),
    ...Object.entries(r.throughput.routes).map(([route, t]) => throughputRow(route, t, r.throughput.constant)),
    '',
    'Target: ≥ 0.4 of the constant route.',
    '',
    ...sharedStateSection(r.sharedState),
  ];
  return lines.join('\n');
}

/** The budget check's latency with REDIS_URL set and without, when it was measured. */
function sharedStateSection(figures: SharedStateFigures | undefined): string[] {
  if (!figures) return [];
  const row = (name: string, p: Percentiles) => `| ${name} | ${p.p50} | ${p.p99} | ${p.samples} |`;
  return [
    '## The budget check with Redis (ms, one request at a time, small database)',
    '',
    'POST /v1/usage/authorize with the rate limit on, its buckets in the process or in Redis (REDIS_URL).',
    '',
    '| rate limit | p50 | p99 | requests |',
    '| --- | ---: | ---: | ---: |',
    row('in the process', figures.withoutRedis),
    row('in Redis', figures.withRedis),
    '',
    `p50 with Redis / without: **${figures.ratioP50}** (target ≤ 1: ${mark(figures.ratioP50 <= 1)}).`,
    '',
  ];
}

/** The breakdown's three questions against their targets. */
function breakdownSection(r: EngineResult): string[] {
  const routes = BREAKDOWN_ROUTES.filter((route) => r.latency.big[route] && r.latency.small[route]);
  if (routes.length === 0) return [];
  return [
    `### Breakdown (the probe's month of the largest organization; ${r.latency.smallEvents} events vs ${r.events})`,
    '',
    'Day × model: `window=day&group_by=model`; top 100 end users: `window=month&group_by=end_user&limit=100`;',
    'tag:project: `window=month&group_by=tag:project&limit=100` (200 values: 100 rows and the other row).',
    'Targets at 10M events: p50 ≤ 5 ms, p99 ≤ 25 ms, big/small p50 ≤ 2.',
    '',
    '| question | p50 big | p99 big | big/small p50 | raw scan p50 big | raw/ours |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...routes.map((route) => {
      const s = r.latency.small[route];
      const b = r.latency.big[route];
      const raw = r.latency.rawScanBig[route];
      const growth = ratio(b.p50, s.p50);
      return (
        `| ${route.replace('breakdown: ', '')} | ${b.p50} (${mark(b.p50 <= 5)}) | ${b.p99} (${mark(b.p99 <= 25)}) | ` +
        `${growth} (${mark(growth <= 2)}) | ${raw.p50} | ${ratio(raw.p50, b.p50)} |`
      );
    }),
    '',
  ];
}

/** Ingestion with end users, tags and parts against without them, when it was measured. */
function grainSection(r: EngineResult): string[] {
  const g = r.ingestion.grains;
  if (!g) return [];
  return [
    '## Ingestion with the end-user and tag rows against without them (fresh databases, same events)',
    '',
    'The same events (same seed, times and stated costs), once with `end_user`, `tags`, `cached_neurons`,',
    '`cache_write_neurons` and `reasoning_synapses` and once without them, each through the API into a fresh',
    'database, in the order without, with, with, without. Every rollup is written either way; without the',
    'fields the end-user rollups hold one row per model and bucket and the tag rollups none.',
    '',
    '| run | fields | events | s | events/s | server CPU µs/event | end-user and tag rollup rows |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...g.runs.map(
      (run, i) =>
        `| ${i + 1} | ${run.fields ? 'with' : 'without'} | ${run.events} | ${run.seconds} | ${run.eventsPerSecond} | ` +
        `${run.serverCpuMicrosPerEvent} | ${run.fieldRollupRows} |`,
    ),
    '',
    `With / without: **${g.ratio}** (${g.withFields} against ${g.withoutFields} events/s; target ≥ 0.8: ${mark(g.ratio >= 0.8)}).` +
      (r.engine === 'postgres' ? ' The server CPU leaves out the PostgreSQL backends, where most of the work is.' : ''),
    '',
  ];
}

/** Ingestion through NATS JetStream against through HTTP, when it was measured. */
function queueSection(r: EngineResult): string[] {
  const q = r.ingestion.queue;
  if (!q) return [];
  return [
    '## Ingestion through NATS JetStream against HTTP (fresh databases, same events)',
    '',
    '| run | events | s | events/s | accepted | duplicates |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    `| API, ${r.clients} clients, batches of 1000 | ${q.http.events} | ${q.http.seconds} | ${q.http.eventsPerSecond} | ${q.http.accepted} | ${q.http.duplicates} |`,
    `| NATS, ${q.nats.messages} messages of up to 1000 events of one organization, publish to last ack | ${q.nats.events} | ${q.nats.seconds} | ${q.nats.eventsPerSecond} | ${q.nats.accepted} | ${q.nats.duplicates} |`,
    '',
    `NATS / HTTP: **${q.ratio}** (target ≥ 0.8: ${mark(q.ratio >= 0.8)}).`,
    '',
  ];
}

/** With autovacuum off, the big database was measured before and after VACUUM ANALYZE. */
function beforeVacuum(r: EngineResult): string[] {
  const before = r.latency.bigBeforeVacuum;
  if (!before) return [];
  return [
    'This server runs with autovacuum off, so both databases were vacuumed (VACUUM ANALYZE, then',
    'CHECKPOINT) after loading, before the figures above, as autovacuum would have done. Before',
    'that, the big one answered (p50 / p99, and p50 against the vacuumed figure; the budget check,',
    'which writes, was not measured twice):',
    '',
    '| route | p50 big, not vacuumed | p99 big, not vacuumed | not vacuumed / vacuumed p50 |',
    '| --- | ---: | ---: | ---: |',
    ...ROUTES.flatMap((route) => {
      const b = before[route];
      return b ? [`| ${route} | ${b.p50} | ${b.p99} | ${ratio(b.p50, r.latency.big[route].p50)} |`] : [];
    }),
    '',
  ];
}

function throughputRow(name: string, t: Throughput, constant: Throughput): string {
  return `| ${name} | ${t.requestsPerSecond} | ${t.p50Ms} | ${t.p99Ms} | ${t.errors} | ${ratio(t.requestsPerSecond, constant.requestsPerSecond)} |`;
}

export { ratio };
