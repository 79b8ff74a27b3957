/**
 * The budget check (POST /v1/usage/authorize) with the rate limit's buckets in Redis
 * (REDIS_URL) against the same check with them in the process, on the same database in the
 * same run. The rate limit is on in both (high enough never to refuse), so that each request
 * takes its token from Redis in one and from memory in the other. Server processes are run one
 * at a time, in the order without, with, with, without, so that a drift of the machine or the
 * growing reservations weigh on both alike.
 */
import { randomBytes } from 'node:crypto';
import { Client } from './client.ts';
import { type Percentiles, type Probe, percentiles, routeRequest } from './latency.ts';
import { type BenchDatabase, startServer } from './server.ts';

export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface SharedStateFigures {
  withoutRedis: Percentiles;
  withRedis: Percentiles;
  /** p50 with Redis / p50 without: at most 1 means no worse. */
  ratioP50: number;
}

export async function measureAuthorizeWithRedis(
  database: BenchDatabase,
  secret: string,
  probe: Probe,
  samples: number,
): Promise<SharedStateFigures> {
  const base = { RATE_LIMIT_PER_MINUTE: '10000000' };
  const redis = { ...base, REDIS_URL, REDIS_KEY_PREFIX: `bench-${randomBytes(4).toString('hex')}:` };
  const times = { without: [] as number[], with: [] as number[] };
  const half = Math.max(1, Math.ceil(samples / 2));
  for (const round of ['without', 'with', 'with', 'without'] as const) {
    const server = await startServer(database, [], round === 'with' ? redis : base);
    try {
      times[round].push(...(await timeAuthorize(server.url, secret, probe, half)));
    } finally {
      await server.stop();
    }
  }
  const withoutRedis = percentiles(times.without);
  const withRedis = percentiles(times.with);
  const ratioP50 = withoutRedis.p50 === 0 ? 0 : Math.round((withRedis.p50 / withoutRedis.p50) * 100) / 100;
  return { withoutRedis, withRedis, ratioP50 };
}

async function timeAuthorize(url: string, secret: string, probe: Probe, samples: number): Promise<number[]> {
  const client = new Client(url, secret, 1);
  const { method, path, body } = routeRequest(probe, 'authorize');
  const once = async () => {
    const reply = await client.request(method, path, body);
    if (reply.status !== 200) throw new Error(`authorize answered ${reply.status}: ${reply.body.slice(0, 300)}`);
  };
  try {
    for (let i = 0; i < Math.min(50, samples); i++) await once();
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const started = performance.now();
      await once();
      times.push(performance.now() - started);
    }
    return times;
  } finally {
    client.close();
  }
}
