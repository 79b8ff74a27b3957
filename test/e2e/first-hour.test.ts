/**
 * The first hour of a new user, with the real command line and server: a version, errors that
 * say what and why, imports that name unpriced models, verify that repairs, `npm start` that
 * stops with its signal, start-up pointers, and a PostgreSQL schema that does not exist yet.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { fromRoot } from '../../src/project-root.ts';
import { createTestDatabase, DIALECTS, forEachDialect, ingest, makeOrg, POSTGRES_URL } from '../harness.ts';
import { runCli, startServerProcess } from '../process.ts';

const { version } = JSON.parse(fs.readFileSync(fromRoot('package.json'), 'utf8')) as { version: string };

describe('the command line without a database', () => {
  it('prints its version', async () => {
    const result = await runCli(['--version']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `${version}\n`);
  });

  it('answers a wrong argument with one line and the usage of that command, not the whole help', async () => {
    const result = await runCli(['keys', 'create', '--org']);
    assert.equal(result.code, 1);
    assert.deepEqual(result.stderr.trim().split('\n'), [
      "error: option '--org <org_id>' argument missing",
      'Usage: freddy-analytics keys create [options]',
      '(freddy-analytics keys create --help for more)',
    ]);
  });
});

forEachDialect('commands that say what and why', (server) => {
  let dir: string;
  let orgId: string;
  const env = () => server().database.env;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-first-hour-'));
    orgId = (await makeOrg(server())).id;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('names the organization that does not exist, and exits 1', async () => {
    for (const args of [
      ['report', '--org', 'org_nope'],
      ['verify', '--org', 'org_nope'],
    ]) {
      const result = await runCli(args, env());
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stdout}`);
      assert.equal(
        result.stderr,
        'freddy-analytics: ORGANIZATION_NOT_FOUND: Organization not found (organization_id org_nope)\n',
      );
    }
  });

  it('reports the events an import could not price, with their models, in text and JSON', async () => {
    const file = path.join(dir, 'unpriced.ndjson');
    const line = (id: string, model: string) =>
      JSON.stringify({
        id,
        organization_id: orgId,
        model,
        neurons: 10,
        synapses: 2,
        timestamp: '2025-06-01T10:00:00Z',
      });
    fs.writeFileSync(
      file,
      `${[line('u1', 'mystery-a'), line('u2', 'mystery-b'), line('u3', 'mystery-a'), line('u4', 'gpt-4o')].join('\n')}\n`,
    );
    const text = await runCli(['import', file], env());
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Imported 4 events/);
    assert.match(
      text.stdout,
      /\n3 of them stated no cost and have no price \(stored with cost 0\): mystery-a \(2\), mystery-b \(1\)\n/,
    );

    const again = path.join(dir, 'unpriced-again.ndjson');
    fs.writeFileSync(again, `${line('u5', 'mystery-b')}\n`);
    const json = JSON.parse((await runCli(['import', again, '--json'], env())).stdout);
    assert.deepEqual(json.unpriced, { events: 1, models: { 'mystery-b': 1 } });
  });

  it('verify --repair rebuilds the months that differ from the raw events, then finds none', async () => {
    await ingest(server(), [
      {
        id: 'r1',
        organization_id: orgId,
        model: 'gpt-4o',
        neurons: 5,
        synapses: 1,
        cost: '0.5',
        timestamp: '2025-03-04T10:00:00Z',
      },
    ]);
    await server()
      .storage.db.updateTable('rollup_key_day')
      .set({ cost_nano: 7n })
      .where('organization_id', '=', orgId)
      .where('day', '=', 20250304)
      .execute();
    const found = await runCli(['verify', '--org', orgId], env());
    assert.equal(found.code, 1);
    assert.match(found.stdout, /rollup_key_day .*20250304.* cost_nano=7;/);

    const repaired = await runCli(['verify', '--org', orgId, '--repair', '--json'], env());
    assert.equal(repaired.code, 0, repaired.stderr);
    const answer = JSON.parse(repaired.stdout);
    assert.deepEqual(answer.repaired_months, ['2025-03']);
    assert.deepEqual(answer.differences, []);
    assert.equal(answer.found.length, 1);
    const clean = await runCli(['verify', '--org', orgId], env());
    assert.equal(clean.code, 0);
    assert.match(clean.stdout, / 0 difference\(s\)\n$/);
  });
});

describe('npm start', () => {
  it('prints where to go, and stops the server when npm gets SIGTERM', async () => {
    const database = await createTestDatabase('sqlite');
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: fromRoot(),
      env: { ...process.env, ...database.env, PORT: '0', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stderr = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start-up pointers: ${stderr}`)), 30_000);
        npm.stderr!.on('data', (chunk) => {
          stderr += String(chunk);
          const match = /freddy-analytics is serving (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stderr);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
      });
      assert.match(stderr, new RegExp(`dashboard {6}${url}/dashboard\\n`));
      assert.match(stderr, new RegExp(`API reference  ${url}/docs \\(OpenAPI: ${url}/openapi.json\\)\\n`));
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
      npm.kill('SIGTERM');
      assert.equal(await exited, 0);
      // The server went with npm: nothing listens there any more.
      await assert.rejects(fetch(`${url}/healthz`));
    } finally {
      if (npm.exitCode === null) npm.kill('SIGKILL');
      await database.drop();
    }
  });
});

describe('PostgreSQL schema that does not exist yet', { skip: !DIALECTS.includes('postgres') }, () => {
  it('is created by migrate and by serve, and only it is migrated', async () => {
    const schema = `t_new_${process.pid}_${Date.now()}`;
    const env = { DATABASE_URL: POSTGRES_URL, DATABASE_SCHEMA: schema };
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      const migrated = await runCli(['migrate'], env);
      assert.equal(migrated.code, 0, migrated.stderr);
      assert.match(migrated.stdout, /^Applied 2026_11_23_0001_initial/);
      const tables = await admin.query('select table_name from information_schema.tables where table_schema = $1', [
        schema,
      ]);
      assert.ok(tables.rows.some((r) => r.table_name === 'kysely_migration'));
      assert.ok(tables.rows.some((r) => r.table_name === 'usage_events'));

      await admin.query(`drop schema ${schema} cascade`);
      const server = await startServerProcess(env);
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0);
    } finally {
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
  });
});
