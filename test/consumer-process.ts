/**
 * `freddy-analytics consume` as a process, for the process-level queue ingestion tests: start it,
 * kill it, cut a batch into messages, and check that what was published is stored exactly once.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import type { NatsIngestConfig } from '../src/config.ts';
import { openStorage } from '../src/storage/storage.ts';
import type { EventInput, TestDatabase } from './harness.ts';
import { BIN, type ServerProcess, startServerProcess } from './process.ts';
import { assertExactlyOnce, bootstrap, summaryOf, type Tenant } from './streaming-clients.ts';

/** The environment that points `serve` or `consume` at the test's stream and subjects. */
export function queueEnv(config: NatsIngestConfig): Record<string, string> {
  return {
    INGEST_NATS_URL: config.url,
    INGEST_NATS_STREAM: config.stream,
    INGEST_NATS_SUBJECT_PREFIX: config.subjectPrefix,
  };
}

export interface Consumer {
  child: ChildProcess;
  stderr: string[];
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/** Starts `freddy-analytics consume` and resolves once it pulls. */
export function startConsumer(env: Record<string, string>): Promise<Consumer> {
  const child = spawn(process.execPath, [BIN, 'consume'], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consume did not start: ${stderr.join('')}`)), 20_000);
    child.stderr!.on('data', (chunk) => {
      stderr.push(String(chunk));
      if (stderr.join('').includes('is consuming')) {
        clearTimeout(timer);
        resolve({ child, stderr, exited });
      }
    });
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`consume exited with ${code}: ${stderr.join('')}`));
    });
  });
}

export async function kill(consumer: Consumer | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!consumer || consumer.child.exitCode !== null || consumer.child.signalCode !== null) return;
  consumer.child.kill(signal);
  await consumer.exited;
}

/** A batch as messages, one per organization (a message names one organization); now and then a single event. */
export function messagesOf(events: EventInput[]): Array<{ org: string; body: unknown; events: EventInput[] }> {
  const byOrg = new Map<string, EventInput[]>();
  for (const event of events) byOrg.set(event.organization_id, [...(byOrg.get(event.organization_id) ?? []), event]);
  return [...byOrg].map(([org, list]) => ({ org, body: list.length === 1 ? list[0] : { events: list }, events: list }));
}

/** The tenants of a fresh database, made through a server process that is then stopped. */
export async function tenantsOf(database: TestDatabase): Promise<{ adminKey: string; tenants: Tenant[] }> {
  const { server, adminKey, tenants } = await bootstrap(database);
  server.child.kill('SIGTERM');
  await server.exited;
  return { adminKey, tenants };
}

/** Every published event stored once, the summary of each organization and every rollup equal to them. */
export async function assertStoredOnce(database: TestDatabase, adminKey: string, published: Map<string, EventInput>) {
  const server: ServerProcess = await startServerProcess({ ...database.env, RATE_LIMIT_PER_MINUTE: '0' });
  const storage = await openStorage(database.config);
  try {
    const totals = await assertExactlyOnce(storage, published, (orgId) => summaryOf(server.url, adminKey, orgId));
    assert.equal(totals.events, published.size);
  } finally {
    await storage.close();
    server.child.kill('SIGTERM');
    await server.exited;
  }
}
