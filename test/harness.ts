/**
 * Test harness: a fresh database per test file (a SQLite file, or a PostgreSQL schema of its
 * own), the real app listening on a loopback port, and factories for organizations, keys and
 * usage. Suites run once per dialect via `forEachDialect`.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import type { DatabaseConfig, NatsIngestConfig } from '../src/config.ts';
import { type AppConfig, type AppContext, createContext } from '../src/context.ts';
import { createAdminKey } from '../src/modules/admin-keys/admin-keys.service.ts';
import { createApiKey, type NewApiKey } from '../src/modules/api-keys/api-keys.service.ts';
import { OPERATOR } from '../src/modules/auth/principal.ts';
import { ingestUsage } from '../src/modules/ingestion/ingestion.service.ts';
import { createOrganization } from '../src/modules/orgs/orgs.service.ts';
import { listingRaced, migrateToLatest, migrator } from '../src/storage/migrate.ts';
import type { SqliteStorage } from '../src/storage/sqlite/engine.ts';
import { type EngineName, openStorage, type Storage } from '../src/storage/storage.ts';
import { EARLIEST_EVENT_MS } from '../src/time/calendar.ts';
import { pooledTestDatabase } from './pgbouncer.ts';

export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * PostgreSQL through a pooler in transaction mode (test/pgbouncer.ts) when set: each test
 * database is then reached through it, as a role of its own. Administration stays direct.
 */
const PGBOUNCER_URL = process.env.TEST_PGBOUNCER_URL;

/**
 * Both engines, unless FREDDY_TEST_DIALECTS narrows it (e.g. "sqlite" on a laptop without
 * PostgreSQL). An unknown name fails the run: a misspelt one would otherwise test nothing.
 */
export const DIALECTS: EngineName[] = parseDialects(process.env.FREDDY_TEST_DIALECTS ?? 'sqlite,postgres');

export function parseDialects(value: string): EngineName[] {
  const names = value.split(',').map((d) => d.trim());
  const unknown = names.filter((d) => d !== 'sqlite' && d !== 'postgres');
  if (unknown.length > 0) {
    throw new Error(`FREDDY_TEST_DIALECTS: unknown engine ${JSON.stringify(unknown.join(','))}; use sqlite, postgres`);
  }
  return [...new Set(names)] as EngineName[];
}

/**
 * PostgreSQL, connecting as `applicationName`: pg_stat_activity shows it, so that a test can find
 * the connections of its own database among those of other test files (and end them).
 */
export function postgresUrl(applicationName: string): string {
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('application_name', applicationName);
  return url.toString();
}

/**
 * PostgreSQL: ends the sessions connected as `applicationName` (and matching `condition`, SQL
 * over pg_stat_activity), from a connection of its own, as an administrator would; resolves
 * with how many there were.
 */
export async function terminateBackends(applicationName: string, condition = 'true'): Promise<number> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    const { rowCount } = await admin.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
        where application_name = $1 and pid <> pg_backend_pid() and (${condition})`,
      [applicationName],
    );
    return rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

export interface TestDatabase {
  config: DatabaseConfig;
  /** Environment that points a child process (CLI, server) at this database. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

export async function createTestDatabase(dialect: EngineName): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-test-'));
    const file = path.join(dir, `${name}.sqlite`);
    return {
      config: { kind: 'sqlite', path: file },
      env: { DATABASE_URL: `sqlite:${file}` },
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (PGBOUNCER_URL) return pooledTestDatabase(name, POSTGRES_URL, PGBOUNCER_URL);
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create schema ${name}`);
  await admin.end();
  // Connections are named after the schema (see postgresUrl).
  return {
    config: { kind: 'postgres', url: postgresUrl(name), poolSize: 5, schema: name },
    env: { DATABASE_URL: postgresUrl(name), DATABASE_SCHEMA: name },
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`drop schema if exists ${name} cascade`);
      await client.end();
    },
  };
}

export interface TestServer {
  dialect: EngineName;
  app: FastifyInstance;
  /** The server's context; `storage` is its storage. */
  ctx: AppContext;
  storage: Storage;
  database: TestDatabase;
  baseUrl: string;
  adminKey: string;
  /** Lines the server logged. */
  logs: string[];
  request(method: string, url: string, options?: RequestOptions): Promise<TestResponse>;
  /** Runs `cleanup` when the server closes, before its database is dropped. */
  onClose(cleanup: () => Promise<void>): void;
  close(): Promise<void>;
}

export interface RequestOptions {
  key?: string | undefined;
  body?: unknown;
  /** Sent as is, instead of JSON of `body`. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface TestServerOptions {
  clock?: () => number;
  /** REQUEST_TIMEOUT_MS of the server, and the bound on its database work (see StorageOptions). */
  requestTimeoutMs?: number;
  /** RAW_EVENTS_RETENTION_MONTHS of the server; unset keeps every raw event. */
  retentionMonths?: number;
  /** Ingestion from NATS JetStream, started with the server (see test/queue.ts for names of a test's own). */
  ingestNats?: NatsIngestConfig;
}

export async function startTestServer(dialect: EngineName, options: TestServerOptions = {}): Promise<TestServer> {
  const database = await createTestDatabase(dialect);
  const storage = await openStorage(
    database.config,
    options.requestTimeoutMs === undefined ? {} : { timeoutMs: options.requestTimeoutMs },
  );
  await migrateToLatest(storage);
  const logs: string[] = [];
  const logStream = new (await import('node:stream')).Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const config: AppConfig = {
    bodyLimit: 1_048_576,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    logLevel: 'info',
    reservationTtlSeconds: 300,
    ...(options.retentionMonths === undefined ? {} : { rawEventsRetentionMonths: options.retentionMonths }),
    ...(options.ingestNats ? { ingestNats: options.ingestNats } : {}),
  };
  const ctx = createContext(storage, config, { clock: options.clock ?? Date.now });
  const app = await buildApp(ctx, { logStream });
  await ctx.queue?.start(app.log);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const { secret: adminKey } = await createAdminKey(storage.db, 'test admin', Date.now());

  const request = async (method: string, url: string, opts: RequestOptions = {}): Promise<TestResponse> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.key !== undefined) headers['x-api-key'] = opts.key;
    let body: string | Buffer | undefined;
    if (opts.rawBody !== undefined) body = opts.rawBody;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(baseUrl + url, { method, headers, body });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };

  const cleanups: Array<() => Promise<void>> = [];
  return {
    dialect,
    app,
    ctx,
    storage,
    database,
    baseUrl,
    adminKey,
    logs,
    request,
    onClose: (cleanup) => cleanups.push(cleanup),
    close: async () => {
      await app.close();
      await ctx.close();
      for (const cleanup of cleanups) await cleanup();
      await database.drop();
    },
  };
}

/** The configuration of the harness's server, for contexts the tests make themselves. */
export const TEST_CONFIG: AppConfig = {
  bodyLimit: 1_048_576,
  requestTimeoutMs: 30_000,
  logLevel: 'silent',
  reservationTtlSeconds: 300,
};

/** A context of its own around a storage the test opened itself, as another process would have. */
export function contextOf(storage: Storage): AppContext {
  return createContext(storage, TEST_CONFIG);
}

/**
 * An app over a storage the test opened itself, in a context of its own (closing the storage
 * is the test's). For tests that need an app configured unlike the harness's server.
 */
export function appOver(deps: {
  storage: Storage;
  config: AppConfig;
  clock?: () => number;
  logStream?: NodeJS.WritableStream;
}): Promise<FastifyInstance> {
  const ctx = createContext(deps.storage, deps.config, { clock: deps.clock ?? Date.now });
  return buildApp(ctx, deps.logStream ? { logStream: deps.logStream } : {});
}

/** The better-sqlite3 connection behind a SQLite storage, for tests that look at the file itself. */
export function sqliteConnection(storage: Storage): SqliteStorage['connection'] {
  if (storage.engine !== 'sqlite') throw new Error('not a SQLite storage');
  return (storage as SqliteStorage).connection;
}

/**
 * Migrates `storage` up or down to the migration `name`, and names the migrations run. Kysely's migrator lists the tables of
 * every schema, which fails while another test drops its own (see listingRaced); nothing was
 * migrated then, so it tries again.
 */
export async function migrateTestDatabaseTo(storage: Storage, name: string): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await (await migrator(storage, storage.db)).migrateTo(name);
    if (!error) return (results ?? []).map((r) => r.migrationName);
    const ranNone = !results?.some((r) => r.status !== 'NotExecuted');
    if (!listingRaced(error) || !ranNone || attempt >= 100) throw error;
    await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 90));
  }
}

/**
 * Declares `suite` once per dialect, each with its own server and database, started before
 * and closed after the suite.
 */
export function forEachDialect(
  name: string,
  suite: (ctx: () => TestServer) => void,
  options: TestServerOptions = {},
): void {
  for (const dialect of DIALECTS) {
    describe(`${name} [${dialect}]`, () => {
      let server: TestServer | undefined;
      before(async () => {
        server = await startTestServer(dialect, options);
      });
      after(async () => {
        await server?.close();
      });
      suite(() => {
        if (!server) throw new Error('server not started');
        return server;
      });
    });
  }
}

/** Resolves once `condition()` holds, checking every few milliseconds; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting after ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// ---- factories ----

export async function makeOrg(server: TestServer, input: { name?: string; id?: string } = {}) {
  return createOrganization(
    server.storage.db,
    { name: input.name ?? 'Test Org', id: input.id },
    Date.now() - 86_400_000,
  );
}

/**
 * An API key that exists since 2000 unless `createdAt` says otherwise, so that events of any
 * date a test picks may name it (ingestion refuses events dated before their key's creation).
 */
export async function makeApiKey(server: TestServer, organizationId: string, input: Partial<NewApiKey> = {}) {
  const { apiKey, secret } = await createApiKey(
    server.storage.db,
    organizationId,
    {
      name: input.name ?? 'test key',
      scopes: input.scopes ?? ['read:usage', 'write:usage', 'manage:keys'],
      createdAt: EARLIEST_EVENT_MS,
      ...input,
    },
    Date.now(),
    OPERATOR,
  );
  return { ...apiKey, secret };
}

export interface EventInput {
  id: string;
  organization_id: string;
  api_key_id?: string | null;
  model: string;
  neurons: number;
  synapses: number;
  /** Absent: priced from the price sheet. */
  cost?: number | string;
  timestamp?: string;
  cached_neurons?: number;
  cache_write_neurons?: number;
  reasoning_synapses?: number;
  end_user?: string;
  tags?: Record<string, string>;
}

/** Posts events in batches of 1000 through the HTTP API; returns the summed answer. */
export async function ingest(server: TestServer, events: EventInput[], key = server.adminKey) {
  let accepted = 0;
  let duplicates = 0;
  for (let i = 0; i < events.length; i += 1000) {
    const response = await server.request('POST', '/v1/usage/events', {
      key,
      body: { events: events.slice(i, i + 1000) },
    });
    if (response.status !== 200) throw new Error(`ingest failed: ${response.status} ${response.text}`);
    accepted += response.body.accepted;
    duplicates += response.body.duplicates;
  }
  return { accepted, duplicates };
}

/**
 * Stores events through the ingestion service in this process, as the operator, in batches of
 * 5000: the path of `POST /v1/usage/events` without HTTP, for fixtures of many thousand events
 * that a test reads but whose ingestion is not its subject (about 2.5 times faster).
 */
export async function ingestDirect(server: TestServer, events: EventInput[]) {
  let accepted = 0;
  let duplicates = 0;
  for (let i = 0; i < events.length; i += 5000) {
    const result = await ingestUsage(server.ctx, OPERATOR, events.slice(i, i + 5000), Date.now());
    accepted += result.accepted;
    duplicates += result.duplicates;
  }
  return { accepted, duplicates };
}

/** `total` nano-CHF split over `count` events so that the parts sum exactly, as CHF strings. */
export function splitCost(totalNano: bigint, count: number): string[] {
  const base = totalNano / BigInt(count);
  const remainder = Number(totalNano % BigInt(count));
  return Array.from({ length: count }, (_, i) => nanoToDecimal(base + (i < remainder ? 1n : 0n)));
}

/** `total` split into `count` non-negative integers that sum exactly. */
export function splitUnits(total: number, count: number): number[] {
  const base = Math.floor(total / count);
  const remainder = total - base * count;
  return Array.from({ length: count }, (_, i) => base + (i < remainder ? 1 : 0));
}

export function nanoToDecimal(nano: bigint): string {
  const text = nano.toString().padStart(10, '0');
  return `${text.slice(0, -9)}.${text.slice(-9)}`;
}

export const CHF = 1_000_000_000n;

/** The envelope every error answer must have. */
export function assertEnvelope(
  assert: typeof import('node:assert/strict'),
  response: TestResponse,
  status: number,
  code: string,
): void {
  assert.equal(response.status, status, response.text);
  assert.equal(response.body?.success, false, response.text);
  const error = response.body.error;
  assert.equal(error.code, code, response.text);
  assert.equal(error.status, status);
  for (const field of ['message', 'system_message', 'type', 'trace_id', 'timestamp']) {
    assert.equal(typeof error[field], 'string', `error.${field} in ${response.text}`);
  }
  assert.match(error.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(response.headers.get('x-trace-id'), error.trace_id);
}

/** Which of the settings autovacuum needs are off on the test PostgreSQL server. */
export async function postgresSettingsOff(): Promise<string[]> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const { rows } = await client.query(
      "select name from pg_settings where name in ('autovacuum', 'track_counts') and setting <> 'on' order by name",
    );
    return rows.map((row) => row.name);
  } finally {
    await client.end();
  }
}
