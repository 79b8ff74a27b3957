/**
 * Query latency: p50 and p99 of the routes, one request at a time over a keep-alive
 * connection, and the baseline: the same summaries computed by one SQL query over raw events.
 */
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { DAY_MS } from '../src/time/calendar.ts';
import { Client } from './client.ts';
import { orgId } from './data.ts';
import type { BenchDatabase } from './server.ts';

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
  }
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

/** One SQL statement per route over raw usage_events, returning what the route summarizes. */
function rawQueries(probe: Probe, p: (n: number) => string): Record<RouteName, { sql: string; params: unknown[] }> {
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
    for (const [route, q] of Object.entries(rawQueries(probe, (n) => `@p${n}`))) {
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
  for (const [route, q] of Object.entries(rawQueries(probe, (n) => `$${n}`))) {
    result[route as RouteName] = await timeRepeatedly(
      async () => void (await client.query(q.sql, q.params)),
      2,
      samples,
    );
  }
  await client.end();
  return result;
}
