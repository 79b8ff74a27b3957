/**
 * Reliability scenarios share this: deterministic batches of usage events, clients that
 * stream them to a server and retry every batch until it is acknowledged with 200, and the
 * final check that every acknowledged event is stored once and every rollup adds up.
 */
import assert from 'node:assert/strict';
import { checkRollups } from '../src/modules/rollups/check.ts';
import type { Storage } from '../src/storage/storage.ts';
import { toNumber } from '../src/storage/values.ts';
import type { EventInput, TestDatabase } from './harness.ts';
import { startServerProcess } from './process.ts';

export interface Tenant {
  orgId: string;
  apiKeyIds: string[];
}

const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet', 'mistral-large'];
const DAY = 86_400_000;

/** Batch `batch` of client `client`: ids depend only on (client, batch, index). */
export function makeBatch(client: string, batch: number, tenants: Tenant[], random: () => number): EventInput[] {
  const size = 1 + Math.floor(random() * 150);
  const now = Date.now();
  return Array.from({ length: size }, (_, i) => {
    const tenant = tenants[Math.floor(random() * tenants.length)]!;
    const keyIndex = Math.floor(random() * (tenant.apiKeyIds.length + 1));
    return {
      id: `${client}-b${batch}-e${i}`,
      organization_id: tenant.orgId,
      api_key_id: tenant.apiKeyIds[keyIndex] ?? null,
      model: MODELS[Math.floor(random() * MODELS.length)]!,
      neurons: Math.floor(random() * 10_000),
      synapses: Math.floor(random() * 5_000),
      cost: `0.${String(Math.floor(random() * 1e6)).padStart(6, '0')}`,
      // Spread over about 70 days, so that events cross month boundaries.
      timestamp: new Date(now - Math.floor(random() * 70 * DAY)).toISOString(),
    };
  });
}

export interface StreamStats {
  batchesAcknowledged: number;
  attempts: number;
  /** Attempts that failed: connection refused or reset, or a non-200 status. */
  failedAttempts: number;
  statuses: Map<number, number>;
  accepted: number;
  duplicates: number;
  /** Requests sent and not yet answered, now. */
  inFlight: number;
  /** Requests whose connection closed before any answer came (not those refused a connection). */
  unanswered: number;
}

export function newStats(): StreamStats {
  return {
    batchesAcknowledged: 0,
    attempts: 0,
    failedAttempts: 0,
    statuses: new Map(),
    accepted: 0,
    duplicates: 0,
    inFlight: 0,
    unanswered: 0,
  };
}

/**
 * Posts `events` to one of `urls()` until a 200 answers, and returns it. Connection errors and
 * 503s (the server is restarting) are retried; anything else non-200 fails the test.
 */
export async function sendUntilAcknowledged(
  urls: () => string[],
  key: string,
  events: EventInput[],
  stats: StreamStats,
  random: () => number,
  /** Whether a 503 (a server restarting) may be retried; otherwise any non-200 fails. */
  retry503 = true,
): Promise<{ accepted: number; duplicates: number }> {
  const body = JSON.stringify({ events });
  for (;;) {
    const candidates = urls();
    const url = candidates[Math.floor(random() * candidates.length)];
    stats.attempts++;
    try {
      if (!url) throw new Error('no server');
      let text: string;
      let response: Response;
      stats.inFlight++;
      try {
        response = await fetch(`${url}/v1/usage/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': key },
          body,
          signal: AbortSignal.timeout(15_000),
        });
        text = await response.text();
      } catch (error) {
        if ((error as { cause?: { code?: string } }).cause?.code !== 'ECONNREFUSED') stats.unanswered++;
        throw error;
      } finally {
        stats.inFlight--;
      }
      stats.statuses.set(response.status, (stats.statuses.get(response.status) ?? 0) + 1);
      if (response.status === 200) {
        const answer = JSON.parse(text) as { accepted: number; duplicates: number };
        stats.accepted += answer.accepted;
        stats.duplicates += answer.duplicates;
        stats.batchesAcknowledged++;
        return answer;
      }
      if (response.status !== 503 || !retry503)
        throw new UnexpectedAnswer(`unexpected ${response.status}: ${text.slice(0, 500)}`);
    } catch (error) {
      if (error instanceof UnexpectedAnswer) throw error;
    }
    stats.failedAttempts++;
    await new Promise((resolve) => setTimeout(resolve, 10 + random() * 40));
  }
}

class UnexpectedAnswer extends Error {}

export interface StoredTotals {
  events: number;
  perOrganization: Map<string, { requests: number; neurons: number }>;
}

/**
 * The end-of-run proof: the stored events are exactly the acknowledged ones, each once; the
 * summary route's totals equal the raw counts per organization; every rollup row equals its
 * recomputation from raw events.
 */
export async function assertExactlyOnce(
  storage: Storage,
  acknowledged: Map<string, EventInput>,
  summary: (orgId: string) => Promise<{ totalRequests: number; totalNeurons: number }>,
): Promise<StoredTotals> {
  const rows = await storage.db.selectFrom('usage_events').select(['organization_id', 'id']).execute();
  const seen = new Map<string, number>();
  for (const row of rows) {
    const id = `${row.organization_id}/${row.id}`;
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  assert.deepEqual(twice.slice(0, 10), [], 'events stored more than once');
  const missing = [...acknowledged.keys()].filter((id) => !seen.has(id));
  assert.deepEqual(missing.slice(0, 10), [], 'acknowledged events not stored');
  const unexpected = [...seen.keys()].filter((id) => !acknowledged.has(id));
  assert.deepEqual(unexpected.slice(0, 10), [], 'stored events that no client sent');
  assert.equal(rows.length, acknowledged.size);

  const perOrganization = new Map<string, { requests: number; neurons: number }>();
  for (const event of acknowledged.values()) {
    const totals = perOrganization.get(event.organization_id) ?? { requests: 0, neurons: 0 };
    totals.requests++;
    totals.neurons += event.neurons;
    perOrganization.set(event.organization_id, totals);
  }
  for (const [orgId, expected] of perOrganization) {
    const raw = await storage.db
      .selectFrom('usage_events')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('organization_id', '=', orgId)
      .executeTakeFirstOrThrow();
    assert.equal(toNumber(raw.n), expected.requests, `raw events of ${orgId}`);
    const answer = await summary(orgId);
    assert.equal(answer.totalRequests, expected.requests, `summary requests of ${orgId}`);
    assert.equal(answer.totalNeurons, expected.neurons, `summary neurons of ${orgId}`);
  }
  const check = await checkRollups(storage.db);
  assert.deepEqual(check.differences.slice(0, 5), [], 'rollups differ from their recomputation');
  assert.ok(check.monthsChecked >= 2, `months checked: ${check.monthsChecked}`);
  return { events: rows.length, perOrganization };
}

/** Keys every event of a batch as the stored rows are keyed. */
export function eventKey(event: EventInput): string {
  return `${event.organization_id}/${event.id}`;
}

// No rate limit: the clients deliberately send as fast as the server answers.
const SERVER_ENV = { RATE_LIMIT_PER_MINUTE: '0' };

/** Starts a server process on a fresh database and creates two organizations with two keys each. */
export async function bootstrap(database: TestDatabase, env: Record<string, string> = {}) {
  const server = await startServerProcess({ ...database.env, ...SERVER_ENV, ...env });
  const adminKey = /\n\s+(fak_\S+)/.exec(server.stderr.join(''))?.[1];
  assert.ok(adminKey, `no admin key printed: ${server.stderr.join('')}`);
  const post = async (url: string, body: unknown) => {
    const response = await fetch(server.url + url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': adminKey },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 201, await response.clone().text());
    return (await response.json()) as { id: string };
  };
  const tenants: Tenant[] = [];
  for (const name of ['Tenant A', 'Tenant B']) {
    const org = await post('/v1/organizations', { name });
    const keys = [];
    for (const key of ['gateway 1', 'gateway 2']) {
      // The clients report usage of the last 70 days: the keys exist since before that.
      const since = new Date(Date.now() - 100 * DAY).toISOString();
      keys.push((await post(`/v1/organizations/${org.id}/api-keys`, { key_name: key, created_at: since })).id);
    }
    tenants.push({ orgId: org.id, apiKeyIds: keys });
  }
  return { server, adminKey, tenants };
}

export async function summaryOf(url: string, key: string, orgId: string) {
  const response = await fetch(`${url}/v1/analytics/usage/summary/${orgId}`, { headers: { 'x-api-key': key } });
  assert.equal(response.status, 200);
  return (await response.json()) as { totalRequests: number; totalNeurons: number };
}
