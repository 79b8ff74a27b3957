/**
 * HTTP throughput: requests/s of each seed endpoint under autocannon with keep-alive, against
 * GET /healthz of the same server (public, constant body) as the baseline.
 */
import autocannon from 'autocannon';
import { type Probe, type RouteName, routeRequest } from './latency.ts';

export const SEED_ROUTES: RouteName[] = ['usage summary', 'api-keys summary', 'api-key usage'];

export interface Throughput {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

async function load(url: string, path: string, secret: string | undefined, seconds: number): Promise<Throughput> {
  const result = await autocannon({
    url: `${url}${path}`,
    connections: 10,
    pipelining: 1,
    duration: seconds,
    headers: secret ? { 'x-api-key': secret } : {},
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

export async function measureThroughput(
  url: string,
  secret: string,
  probe: Probe,
  seconds: number,
): Promise<{ constant: Throughput; routes: Record<string, Throughput> }> {
  const constant = await load(url, '/healthz', undefined, seconds);
  const routes: Record<string, Throughput> = {};
  for (const route of SEED_ROUTES) {
    routes[route] = await load(url, routeRequest(probe, route).path, secret, seconds);
  }
  return { constant, routes };
}
