/** Prometheus metrics: request counts and latency by route pattern, ingestion counters, pool state. */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { forEachDialect, ingest, makeOrg, type TestServer } from './harness.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(match, `not a sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

async function scrape(server: TestServer): Promise<{ text: string; samples: Sample[] }> {
  const response = await server.request('GET', '/metrics');
  assert.equal(response.status, 200, response.text);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return { text: response.text, samples: parse(response.text) };
}

forEachDialect('metrics', (server) => {
  let orgId: string;

  before(async () => {
    orgId = (await makeOrg(server())).id;
  });

  it('counts ingested, duplicate and unpriced events from what ingestion answered', async () => {
    const events = [
      { id: 'm-1', organization_id: orgId, model: 'gpt-4o', neurons: 10, synapses: 5, cost: '0.5' },
      { id: 'm-2', organization_id: orgId, model: 'gpt-4o', neurons: 10, synapses: 5, cost: '0.5' },
      // No cost stated and no price for this model: stored unpriced.
      { id: 'm-3', organization_id: orgId, model: 'no-such-model-priced', neurons: 10, synapses: 5 },
    ];
    assert.deepEqual(await ingest(server(), events), { accepted: 3, duplicates: 0 });
    assert.deepEqual(await ingest(server(), events.slice(0, 2)), { accepted: 0, duplicates: 2 });

    const { samples } = await scrape(server());
    assert.equal(value(samples, 'freddy_usage_events_ingested_total'), 3);
    assert.equal(value(samples, 'freddy_usage_events_duplicate_total'), 2);
    assert.equal(value(samples, 'freddy_usage_events_unpriced_total'), 1);
  });

  it('counts requests and their latency by route pattern, method and status, never by raw URL', async () => {
    const s = server();
    for (let i = 0; i < 3; i++) {
      assert.equal((await s.request('GET', `/v1/analytics/usage/summary/${orgId}`, { key: s.adminKey })).status, 200);
    }
    assert.equal((await s.request('GET', `/v1/analytics/usage/summary/${orgId}`)).status, 401);
    assert.equal((await s.request('GET', `/no/such/route/${orgId}`)).status, 404);

    const { text, samples } = await scrape(s);
    const route = '/v1/analytics/usage/summary/:org_id';
    const ok = { method: 'GET', route, status_code: '200' };
    assert.equal(value(samples, 'http_requests_total', ok), 3);
    assert.equal(value(samples, 'http_requests_total', { ...ok, status_code: '401' }), 1);
    assert.equal(value(samples, 'http_requests_total', { route: 'unmatched', status_code: '404' }), 1);
    assert.equal(value(samples, 'http_request_duration_seconds_count', ok), 3);
    assert.ok((value(samples, 'http_request_duration_seconds_sum', ok) ?? 0) > 0);
    assert.equal(value(samples, 'http_request_duration_seconds_bucket', { ...ok, le: '+Inf' }), 3);
    assert.ok(!text.includes(orgId), 'no series is labelled with an id from a URL');
    assert.equal(
      value(samples, 'http_requests_total', { method: 'POST', route: '/v1/usage/events', status_code: '200' }),
      2,
    );
  });

  it('reports the database pool on PostgreSQL, and the process metrics', async () => {
    const { samples } = await scrape(server());
    const total = value(samples, 'freddy_db_pool_connections', { state: 'total' });
    if (server().dialect === 'postgres') {
      assert.ok(total !== undefined && total >= 1 && total <= 5, `pool total ${total}`);
      assert.equal(typeof value(samples, 'freddy_db_pool_connections', { state: 'idle' }), 'number');
      assert.equal(value(samples, 'freddy_db_pool_connections', { state: 'waiting' }), 0);
    } else {
      assert.equal(total, undefined, 'SQLite has no pool');
    }
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
    ]) {
      assert.equal(typeof value(samples, name), 'number', name);
    }
  });

  it('is public and does not appear with a key in it', async () => {
    const response = await server().request('GET', '/metrics');
    assert.equal(response.status, 200);
    assert.ok(!response.text.includes(server().adminKey));
  });
});
