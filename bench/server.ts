/**
 * A throwaway database (SQLite temp file or PostgreSQL schema) and the real server process
 * on it, started as an operator would: `node bin/freddy-analytics.js serve`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { DatabaseConfig } from '../src/config.ts';
import { fromRoot } from '../src/project-root.ts';
import { postgresSettingWarnings } from '../src/storage/postgres/settings.ts';
import type { EngineName } from '../src/storage/storage.ts';
import { openStorage } from '../src/storage/storage.ts';

export const POSTGRES_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const BIN = fromRoot('bin', 'freddy-analytics.js');

export interface BenchDatabase {
  dialect: EngineName;
  /** The SQLite file or the PostgreSQL schema. */
  location: string;
  config: DatabaseConfig;
  env: Record<string, string>;
  /** PostgreSQL: VACUUM ANALYZE of every table, what autovacuum does after a burst of writes, then CHECKPOINT. */
  vacuum(): Promise<void>;
  drop(): Promise<void>;
}

/** The engines an `--engine` option names: sqlite, postgres or both. */
export function enginesOption(value: string): EngineName[] {
  if (value === 'both') return ['sqlite', 'postgres'];
  if (value === 'sqlite' || value === 'postgres') return [value];
  throw new Error('--engine: sqlite, postgres or both');
}

/** The value of a numeric option that must be a positive integer, e.g. `--checks 300`. */
export function positiveIntegerOption(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

export async function createDatabase(dialect: EngineName): Promise<BenchDatabase> {
  const name = `bench_${randomBytes(5).toString('hex')}`;
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-bench-'));
    return benchDatabase(dialect, path.join(dir, `${name}.sqlite`));
  }
  await postgresAdmin(`create schema ${name}`);
  return benchDatabase(dialect, name);
}

/**
 * A database `createDatabase` made, by where it is (`location`): the SQLite file, or the
 * PostgreSQL schema. Dropping a SQLite database removes the directory it was made in.
 */
export function benchDatabase(dialect: EngineName, location: string): BenchDatabase {
  if (dialect === 'sqlite') {
    return {
      dialect,
      location,
      config: { kind: 'sqlite', path: location },
      env: { DATABASE_URL: `sqlite:${location}` },
      vacuum: async () => {},
      drop: async () => fs.rmSync(path.dirname(location), { recursive: true, force: true }),
    };
  }
  const name = location;
  return {
    dialect,
    location,
    config: { kind: 'postgres', url: POSTGRES_URL, poolSize: 10, schema: name },
    env: { DATABASE_URL: POSTGRES_URL, DATABASE_SCHEMA: name },
    vacuum: async () => {
      const { rows } = await postgresAdmin('select tablename from pg_tables where schemaname = $1', [name]);
      await postgresAdmin(`vacuum (analyze) ${rows.map((row) => `${name}.${row.tablename}`).join(', ')}`);
      // The vacuum dirtied nearly every page of the big tables (hint bits, visibility); written
      // out by the checkpointer in the background, they slowed the reads measured next about
      // twofold on 10M events. Autovacuum spreads that work over time; here it is done now.
      await postgresAdmin('checkpoint');
    },
    drop: async () => {
      await postgresAdmin(`drop schema if exists ${name} cascade`);
    },
  };
}

/**
 * What the service warns about at start on this PostgreSQL server (autovacuum or the
 * track_counts it needs off; see src/storage/server-settings.ts).
 */
export async function postgresSettingWarningsOf(): Promise<string[]> {
  const storage = await openStorage({ kind: 'postgres', url: POSTGRES_URL, poolSize: 1 });
  try {
    return await postgresSettingWarnings(storage.db);
  } finally {
    await storage.close();
  }
}

async function postgresAdmin(statement: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await client.query(statement, params);
  } finally {
    await client.end();
  }
}

export interface BenchServer {
  url: string;
  pid: number;
  /** The first admin key, printed only by the first start on a database. */
  adminKey: string | undefined;
  /** Peak resident memory so far (VmHWM), in MiB. */
  peakRssMiB(): number;
  stop(): Promise<void>;
}

/**
 * Starts the server on a free port; `nodeFlags` (e.g. --cpu-prof) go to its node process,
 * `env` adds settings (e.g. READ_MEMO_ENTRIES); `bin` is the command line to run (another
 * checkout's, to compare two versions on one database).
 */
export function startServer(
  database: BenchDatabase,
  nodeFlags: string[] = [],
  env: Record<string, string> = {},
  bin = BIN,
): Promise<BenchServer> {
  const child = spawn(process.execPath, [...nodeFlags, bin, 'serve'], {
    env: { ...process.env, ...database.env, PORT: '0', LOG_LEVEL: 'info', RATE_LIMIT_PER_MINUTE: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 30_000);
    child.stderr!.on('data', (chunk) => {
      stderr += String(chunk);
    });
    let pending = '';
    // Every request is logged on stdout; it is read (and dropped) so that the pipe never fills.
    const onData = (chunk: Buffer) => {
      pending += String(chunk);
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(pending);
      if (!match) return;
      const adminKey = /\b(fak_[A-Za-z0-9]+)/.exec(stderr)?.[1];
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve(serverHandle(child, match[1]!, adminKey, exited));
    };
    child.stdout!.on('data', onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}`));
    });
  });
}

function serverHandle(
  child: ChildProcess,
  url: string,
  adminKey: string | undefined,
  exited: Promise<number | null>,
): BenchServer {
  const pid = child.pid!;
  return {
    url,
    pid,
    adminKey,
    peakRssMiB: () => {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return Math.round(kb / 1024);
    },
    stop: async () => {
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`server exited with ${code}`);
    },
  };
}
