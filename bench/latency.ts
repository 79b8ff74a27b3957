/**
 * Query latency: p50 and p99 of the routes, one request at a time over a keep-alive
 * connection, and the baseline: the same summaries computed by one SQL query over raw events.
 * The breakdown is measured for three questions about the probe's month: per day and model,
 * the top 100 end users, and per value of the tag `project` (200 values, so top 100 and the rest).
 */
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { DAY_MS } from '../src/time/calendar.ts';
import { Client } from './client.ts';
import { orgId } from './data.ts';
import type { BenchDatabase } from './server.ts';

/** The breakdown's routes, reported with targets of their own. */
export const BREAKDOWN_ROUTES = [
  'breakdown: day × model',
  'breakdown: top 100 end users',
  'breakdown: tag:project',
] as const;

/** Groups per window that the breakdown questions ask for (its `limit`). */
export const BREAKDOWN_LIMIT = 100;

export interface Percentiles {
  p50: number;
  p99: number;
  samples: number;
}

export interface Probe {
  /** The busiest organization, its busiest key, and the last full month of data. */
  orgId: string;
  keyId: string;
  year: number;
  month: number;
}

export function probeFor(keyId: string, now: number): Probe {
  const d = new Date(now);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1));
  return { orgId: orgId(0), keyId, year: last.getUTCFullYear(), month: last.getUTCMonth() + 1 };
}

export const ROUTES = [
  'usage summary',
  'api-keys summary',
  'api-key usage',
  'usage limits',
  'authorize',
  'hourly usage',
  'heatmap (90 days)',
  'trends (24 months)',
  'breakdown: day × model',
  'breakdown: top 100 end users',
  'breakdown: tag:project',
] as const;
export type RouteName = (typeof ROUTES)[number];

export function routeRequest(probe: Probe, route: RouteName): { method: string; path: string; body?: string } {
  const month = `year=${probe.year}&month=${probe.month}`;
  switch (route) {
    case 'usage summary':
      return { method: 'GET', path: `/v1/analytics/usage/summary/${probe.orgId}` };
    case 'api-keys summary':
      return { method: 'GET', path: `/v1/analytics/api-keys/summary/${probe.orgId}?${month}` };
    case 'api-key usage':
      return { method: 'GET', path: `/v1/analytics/api-keys/usage/${probe.orgId}/${probe.keyId}?${month}` };
    case 'usage limits':
      return { method: 'GET', path: `/v1/analytics/usage/limits/${probe.orgId}?${month}` };
    case 'authorize':
      return {
        method: 'POST',
        path: '/v1/usage/authorize',
        body: JSON.stringify({ organization_id: probe.orgId, api_key_id: probe.keyId, estimated_cost: '0.000001' }),
      };
    case 'hourly usage':
      return { method: 'GET', path: `/v1/analytics/usage/hourly/${probe.orgId}?date=${probeDay(probe)}` };
    case 'heatmap (90 days)':
      return { method: 'GET', path: `/v1/analytics/usage/heatmap/${probe.orgId}?days=90` };
    case 'trends (24 months)':
      return { method: 'GET', path: `/v1/analytics/usage/trends/${probe.orgId}?months=24` };
    case 'breakdown: day × model':
      return { method: 'GET', path: breakdownPath(probe, 'window=day&group_by=model') };
    case 'breakdown: top 100 end users':
      return { method: 'GET', path: breakdownPath(probe, `window=month&group_by=end_user&limit=${BREAKDOWN_LIMIT}`) };
    case 'breakdown: tag:project':
      return {
        method: 'GET',
        path: breakdownPath(probe, `window=month&group_by=tag:project&limit=${BREAKDOWN_LIMIT}`),
      };
  }
}

/** The breakdown of the probe's month, from its first day to the next month's. */
function breakdownPath(probe: Probe, query: string): string {
  const next = new Date(Date.UTC(probe.year, probe.month, 1)).toISOString().slice(0, 10);
  const first = `${probe.year}-${String(probe.month).padStart(2, '0')}-01`;
  return `/v1/analytics/usage/breakdown/${probe.orgId}?from=${first}&to=${next}&${query}`;
}

/** The day the hourly route is measured on: the 15th of the probe's month. */
function probeDay(probe: Probe): string {
  return `${probe.year}-${String(probe.month).padStart(2, '0')}-15`;
}

export function percentiles(samplesMs: number[]): Percentiles {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return { p50: r(at(0.5)), p99: r(at(0.99)), samples: sorted.length };
}

async function timeRepeatedly(run: () => Promise<void>, warmup: number, samples: number): Promise<Percentiles> {
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return percentiles(times);
}

/** Each route in turn, sequentially; a non-2xx answer stops the benchmark. */
export async function measureRoutes(
  url: string,
  secret: string,
  probe: Probe,
  samples: number,
  routes: readonly RouteName[] = ROUTES,
): Promise<Record<RouteName, Percentiles>> {
  const client = new Client(url, secret, 1);
  const result = {} as Record<RouteName, Percentiles>;
  for (const route of routes) {
    const { method, path, body } = routeRequest(probe, route);
    result[route] = await timeRepeatedly(
      async () => {
        const reply = await client.request(method, path, body);
        if (reply.status !== 200) throw new Error(`${route} answered ${reply.status}: ${reply.body.slice(0, 300)}`);
      },
      Math.min(50, samples),
      samples,
    );
  }
  client.close();
  return result;
}

/** Every counter of a breakdown row, named. */
const BREAKDOWN_SUMS = [
  'count(*) as requests',
  'sum(neurons) as neurons',
  'sum(cached_neurons) as cached_neurons',
  'sum(cache_write_neurons) as cache_write_neurons',
  'sum(synapses) as synapses',
  'sum(reasoning_synapses) as reasoning_synapses',
  'sum(cost_nano) as cost_nano',
].join(', ');
const BREAKDOWN_COUNTERS = [
  'requests',
  'neurons',
  'cached_neurons',
  'cache_write_neurons',
  'synapses',
  'reasoning_synapses',
  'cost_nano',
];

/**
 * The breakdown of one window by one dimension from raw events: the groups of the range, the
 * `limit` with the highest cost (ties: requests, then the value) as rows, the rest summed into
 * one "other" row, as the route answers.
 */
function topGroupsSql(value: string, where: string): string {
  const counters = BREAKDOWN_COUNTERS.map((c) => `sum(${c})`).join(', ');
  return `with g as (select ${value} as v, ${BREAKDOWN_SUMS} from usage_events where ${where} group by 1),
    r as (select g.*, row_number() over (order by cost_nano desc, requests desc, v) as rn from g)
    select case when rn <= ${BREAKDOWN_LIMIT} then v end as v, rn > ${BREAKDOWN_LIMIT} as other, ${counters}
    from r group by 1, 2`;
}

/** One SQL statement per route over raw usage_events, returning what the route summarizes. */
function rawQueries(
  probe: Probe,
  p: (n: number) => string,
  dialect: 'sqlite' | 'postgres',
): Record<RouteName, { sql: string; params: unknown[] }> {
  const from = Date.UTC(probe.year, probe.month - 1, 1);
  const to = Date.UTC(probe.year, probe.month, 1);
  const sums = 'count(*), sum(neurons), sum(synapses), sum(cost_nano)';
  const inMonth = `organization_id = ${p(1)} and occurred_at >= ${p(2)} and occurred_at < ${p(3)}`;
  const month = [probe.orgId, from, to];
  const day = Date.parse(`${probeDay(probe)}T00:00:00Z`);
  const now = new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return {
    'usage summary': {
      sql: `select model, ${sums}, min(occurred_at) from usage_events where organization_id = ${p(1)} group by model`,
      params: [probe.orgId],
    },
    'api-keys summary': {
      sql: `select ${sums} from usage_events where ${inMonth} and api_key_id is not null`,
      params: month,
    },
    'api-key usage': {
      sql: `select ${sums} from usage_events where ${inMonth} and api_key_id = ${p(4)}`,
      params: [...month, probe.keyId],
    },
    'usage limits': {
      sql: `select api_key_id, sum(cost_nano) from usage_events where ${inMonth} group by api_key_id`,
      params: month,
    },
    authorize: {
      sql: `select sum(cost_nano), sum(case when api_key_id is not null then cost_nano else 0 end), sum(case when api_key_id = ${p(4)} then cost_nano else 0 end) from usage_events where ${inMonth}`,
      params: [...month, probe.keyId],
    },
    // The three below group the raw events of their range by hour or day, as the rollups hold them.
    'hourly usage': {
      sql: `select occurred_at / 3600000, ${sums} from usage_events where ${inMonth} group by 1`,
      params: [probe.orgId, day, day + DAY_MS],
    },
    'heatmap (90 days)': {
      sql: `select occurred_at / 3600000, sum(neurons), sum(synapses) from usage_events where ${inMonth} group by 1`,
      params: [probe.orgId, today - 89 * DAY_MS, today + DAY_MS],
    },
    'trends (24 months)': {
      sql: `select occurred_at / ${DAY_MS}, sum(neurons), sum(synapses) from usage_events where ${inMonth} group by 1`,
      params: [probe.orgId, Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 23, 1), today + DAY_MS],
    },
    // Fewer than 100 models a day, so no "other" row: every (day, model) group of the month.
    'breakdown: day × model': {
      sql: `select occurred_at / ${DAY_MS} as day, model, ${BREAKDOWN_SUMS} from usage_events where ${inMonth} group by 1, 2`,
      params: month,
    },
    'breakdown: top 100 end users': { sql: topGroupsSql('end_user', inMonth), params: month },
    'breakdown: tag:project': {
      sql: topGroupsSql(
        dialect === 'sqlite' ? `json_extract(tags, '$.project')` : `cast(tags as jsonb) ->> 'project'`,
        inMonth,
      ),
      params: month,
    },
  };
}

/** The raw-scan baseline, straight on the database (no HTTP). */
export async function measureRawScans(
  database: BenchDatabase,
  probe: Probe,
  samples: number,
): Promise<Record<RouteName, Percentiles>> {
  const result = {} as Record<RouteName, Percentiles>;
  if (database.config.kind === 'sqlite') {
    const db = new SQLite(database.config.path, { readonly: true });
    db.defaultSafeIntegers(true);
    for (const [route, q] of Object.entries(rawQueries(probe, (n) => `@p${n}`, 'sqlite'))) {
      const statement = db.prepare(q.sql);
      const named = Object.fromEntries(q.params.map((value, i) => [`p${i + 1}`, value]));
      result[route as RouteName] = await timeRepeatedly(async () => void statement.all(named), 2, samples);
    }
    db.close();
    return result;
  }
  const client = new pg.Client({
    connectionString: database.env.DATABASE_URL,
    options: `-c search_path=${database.config.schema}`,
  });
  await client.connect();
  for (const [route, q] of Object.entries(rawQueries(probe, (n) => `$${n}`, 'postgres'))) {
    result[route as RouteName] = await timeRepeatedly(
      async () => void (await client.query(q.sql, q.params)),
      2,
      samples,
    );
  }
  await client.end();
  return result;
}
