/**
 * PgBouncer in transaction pooling mode in front of the test PostgreSQL: Debian's
 * /usr/sbin/pgbouncer, started with a configuration of its own in a temporary folder on a free
 * port, and test databases reached through it.
 *
 * Through a transaction-mode pooler the service sets nothing per connection, so each test
 * database gets a role of its own whose search_path is its schema (ALTER ROLE … SET), as the
 * docs tell operators to do. PgBouncer lets any role of the server in (auth_query), without a
 * password (auth_type trust, as the test PostgreSQL itself).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { DatabaseConfig } from '../src/config.ts';

export const PGBOUNCER = '/usr/sbin/pgbouncer';

export interface PgBouncer {
  /** postgres:// URL of the database `test` through the pooler, without a user. */
  url: string;
  /** The roles that logged in through it so far, from its log. */
  users(): Set<string>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts PgBouncer (pool_mode=transaction) in front of `postgresUrl`; resolves once it accepts connections. */
export async function startPgBouncer(postgresUrl: string): Promise<PgBouncer> {
  const target = new URL(postgresUrl);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-pgbouncer-'));
  // PgBouncer will not run as root: it drops to the postgres user, which must read and write here.
  fs.chmodSync(dir, 0o777);
  const port = await freePort();
  const user = decodeURIComponent(target.username) || 'postgres';
  fs.writeFileSync(path.join(dir, 'userlist.txt'), `"${user}" ""\n`, { mode: 0o644 });
  fs.writeFileSync(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${target.hostname} port=${target.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      `auth_user = ${user}`,
      'auth_query = SELECT usename, passwd FROM pg_shadow WHERE usename = $1',
      'pool_mode = transaction',
      'default_pool_size = 8',
      'max_client_conn = 500',
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const asRoot = process.getuid?.() === 0;
  const child = spawn(PGBOUNCER, [...(asRoot ? ['-u', 'postgres'] : []), path.join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = `postgres://127.0.0.1:${port}/${target.pathname.slice(1) || 'test'}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url.replace('://', `://${user}@`) });
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      break;
    } catch (error) {
      await client.end().catch(() => {});
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGTERM');
        throw new Error(`pgbouncer did not start: ${(error as Error).message} ${stderr.slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const logfile = path.join(dir, 'pgbouncer.log');
  return {
    url,
    users: () =>
      new Set([...fs.readFileSync(logfile, 'utf8').matchAll(/login attempt: db=\S+ user=(\S+)/g)].map((m) => m[1]!)),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A test database reached through the pooler at `pooledUrl`: schema `name` owned by role
 * `name`, whose search_path (and statement_timeout) the role sets. Administered through
 * `adminUrl`, straight to PostgreSQL.
 */
export async function pooledTestDatabase(name: string, adminUrl: string, pooledUrl: string) {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create role ${name} login`);
    await admin.query(`alter role ${name} set search_path = ${name}`);
    await admin.query(`alter role ${name} set statement_timeout = 30000`);
    await admin.query(`create schema ${name} authorization ${name}`);
    // `create schema if not exists` at start asks for this right even when the schema exists.
    await admin.query(`grant create on database ${new URL(adminUrl).pathname.slice(1) || 'test'} to ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(pooledUrl);
  url.username = name;
  url.searchParams.set('application_name', name);
  const config: DatabaseConfig = {
    kind: 'postgres',
    url: url.toString(),
    poolSize: 5,
    schema: name,
    poolMode: 'transaction',
  };
  return {
    config,
    env: { DATABASE_URL: url.toString(), DATABASE_SCHEMA: name, DATABASE_POOL_MODE: 'transaction' },
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${name} cascade`);
        await client.query(`drop owned by ${name}`);
        await client.query(`drop role if exists ${name}`);
      } finally {
        await client.end();
      }
    },
  };
}
