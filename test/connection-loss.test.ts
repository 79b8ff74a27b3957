/**
 * PostgreSQL sessions ended under the server, as an administrator (pg_terminate_backend), a
 * restart or idle_session_timeout would end them: idle pooled connections, a connection inside
 * a transaction (budget check, limits change), the single-statement ingestion write, and the
 * read memo's change marker query. The process stays up and logs it; the requests that used
 * the connection get a 503 with Retry-After and wrote nothing; the next requests connect anew.
 * test/connection-storm.test.ts does the same at random during a stream of traffic.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { toAppError } from '../src/http/error-envelope.ts';
import { checkRollups } from '../src/modules/rollups/check.ts';
import { openStorage } from '../src/storage/storage.ts';
import { toNumber } from '../src/storage/values.ts';
import {
  assertEnvelope,
  contextOf,
  DIALECTS,
  type EventInput,
  makeApiKey,
  makeOrg,
  POSTGRES_URL,
  postgresUrl,
  startTestServer,
  type TestServer,
  terminateBackends,
} from './harness.ts';
import { runCli } from './process.ts';

const ROOT = path.join(import.meta.dirname, '..');

/** The schema of the server's database, which its connections are named after (see postgresUrl). */
function schemaOf(server: TestServer): string {
  const config = server.database.config;
  if (config.kind !== 'postgres' || !config.schema) throw new Error('a PostgreSQL test database');
  return config.schema;
}

/** Another connection holds an access exclusive lock on `table` until released. */
async function holdLock(server: TestServer, table: string): Promise<{ release(): Promise<void> }> {
  const holder = new pg.Client({ connectionString: POSTGRES_URL });
  await holder.connect();
  await holder.query(`begin; lock table ${schemaOf(server)}.${table} in access exclusive mode`);
  return { release: () => holder.query('rollback').then(() => holder.end()) };
}

/** Ends the session of the server's connection that waits for a lock, once one does. */
async function terminateWhenWaiting(server: TestServer): Promise<void> {
  for (const started = Date.now(); Date.now() - started < 10_000; await sleep(20)) {
    if ((await terminateBackends(schemaOf(server), "state = 'active' and wait_event_type = 'Lock'")) > 0) return;
  }
  throw new Error('no connection of the server came to wait for the lock');
}

/**
 * Ends the sessions named `applicationName` from a child process that this one waits for
 * synchronously (pg_terminate_backend with a timeout waits until they are gone). Meanwhile this
 * process reads nothing, so its pooled connection learns that its session ended only when it is
 * next used: the moment between a session's end and the client noticing, made to last.
 */
function endSessionsUnnoticed(applicationName: string): void {
  const script = `
    import pg from 'pg';
    const client = new pg.Client({ connectionString: process.env.ADMIN_URL });
    await client.connect();
    const { rows } = await client.query(
      'select pg_terminate_backend(pid, 5000) as ended from pg_stat_activity where application_name = $1',
      [process.env.APPLICATION_NAME],
    );
    await client.end();
    if (!rows.length || !rows.every((row) => row.ended)) process.exit(3);
  `;
  execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, ADMIN_URL: POSTGRES_URL, APPLICATION_NAME: applicationName },
  });
}

async function assertLogged(server: TestServer, message: string, times = 1): Promise<void> {
  const count = () => server.logs.filter((line) => JSON.parse(line).msg === message).length;
  for (const started = Date.now(); count() < times && Date.now() - started < 5_000; ) await sleep(20);
  assert.ok(count() >= times, `"${message}" logged ${count()} times, expected ${times}`);
}

function assertUnavailable(response: Awaited<ReturnType<TestServer['request']>>): void {
  assertEnvelope(assert, response, 503, 'SERVICE_UNAVAILABLE');
  assert.equal(response.headers.get('retry-after'), '1');
  assert.doesNotMatch(response.text, /terminat|administrator|pg_|select|insert/i, 'no database detail leaks');
}

describe('PostgreSQL connections ended under the server', { skip: !DIALECTS.includes('postgres') }, () => {
  let server: TestServer;
  let orgId: string;
  let keyId: string;
  let batchNumber = 0;

  const events = (count: number): EventInput[] => {
    batchNumber++;
    return Array.from({ length: count }, (_, i) => ({
      id: `lost-${batchNumber}-${i}`,
      organization_id: orgId,
      api_key_id: keyId,
      model: 'gpt-4o',
      neurons: 100 + i,
      synapses: 40,
      cost: '0.002',
    }));
  };
  const post = (batch: EventInput[]) =>
    server.request('POST', '/v1/usage/events', { key: server.adminKey, body: { events: batch } });
  const summary = () => server.request('GET', `/v1/analytics/usage/summary/${orgId}`, { key: server.adminKey });
  const count = async (table: 'usage_events' | 'reservations') =>
    toNumber(
      (
        await server.storage.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .where('organization_id', '=', orgId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  before(async () => {
    server = await startTestServer('postgres');
    orgId = (await makeOrg(server)).id;
    keyId = (await makeApiKey(server, orgId)).id;
    assert.equal((await post(events(3))).status, 200);
  });
  after(() => server?.close());

  it('idle pooled connections: the loss is logged, and the next requests connect anew', async () => {
    const answers = await Promise.all(Array.from({ length: 4 }, summary));
    for (const answer of answers) assert.equal(answer.status, 200, answer.text);
    const ended = await terminateBackends(schemaOf(server), "state = 'idle'");
    assert.ok(ended >= 1, 'the pool kept idle connections');
    await assertLogged(server, 'database connection lost', ended);

    for (const answer of await Promise.all(Array.from({ length: 4 }, summary))) assert.equal(answer.status, 200);
    assert.equal((await post(events(2))).status, 200);
  });

  it('the single-statement ingestion write: 503, nothing stored, and the batch sent again is stored once', async () => {
    const stored = await count('usage_events');
    const batch = events(5);
    const lock = await holdLock(server, 'usage_events');
    const refused = post(batch);
    try {
      await terminateWhenWaiting(server);
      assertUnavailable(await refused);
    } finally {
      await lock.release();
    }
    assert.equal(await count('usage_events'), stored);
    await assertLogged(server, 'database unavailable');

    const accepted = await post(batch);
    assert.equal(accepted.status, 200, accepted.text);
    assert.equal(accepted.body.accepted, 5);
    assert.equal((await post(batch)).body.duplicates, 5);
    assert.equal(await count('usage_events'), stored + 5);
    assert.deepEqual((await checkRollups(server.storage.db, orgId)).differences, []);
  });

  it('inside the budget check transaction: 503, no reservation, and the organization is not left locked', async () => {
    const authorize = () =>
      server.request('POST', '/v1/usage/authorize', {
        key: server.adminKey,
        body: { organization_id: orgId, api_key_id: keyId, estimated_cost: 0.5 },
      });
    const lock = await holdLock(server, 'reservations');
    const refused = authorize();
    try {
      await terminateWhenWaiting(server);
      assertUnavailable(await refused);
    } finally {
      await lock.release();
    }
    assert.equal(await count('reservations'), 0);

    const admitted = await authorize();
    assert.equal(admitted.status, 200, admitted.text);
    assert.equal(await count('reservations'), 1);
  });

  it('inside a limits change transaction: 503 and no limit changed; sent again, it applies', async () => {
    const limitsUrl = `/v1/analytics/usage/limits/${orgId}`;
    const change = { monthly_api_limit: 100, api_key_id: keyId, api_key_limit: 10 };
    const put = () => server.request('PUT', limitsUrl, { key: server.adminKey, body: change });
    const lock = await holdLock(server, 'api_keys');
    const refused = put();
    try {
      await terminateWhenWaiting(server);
      assertUnavailable(await refused);
    } finally {
      await lock.release();
    }
    const unchanged = await server.request('GET', limitsUrl, { key: server.adminKey });
    assert.equal(unchanged.body.organization_limits.monthly_limit, null);
    assert.deepEqual(unchanged.body.api_key_limits, []);

    assert.equal((await put()).status, 200);
    const changed = await server.request('GET', limitsUrl, { key: server.adminKey });
    assert.equal(changed.body.organization_limits.monthly_limit, 100);
    assert.equal(changed.body.api_key_limits[0]?.limit, 10);
  });

  it('the read memo change marker on an ended session: 503, and the next read connects anew', async () => {
    const name = `${schemaOf(server)}_memo`;
    const storage = await openStorage({
      kind: 'postgres',
      url: postgresUrl(name),
      poolSize: 1,
      schema: schemaOf(server),
    });
    const { reads } = contextOf(storage);
    try {
      assert.equal(await reads.get(['marker', 1], async () => 1), 1);
      endSessionsUnnoticed(name);
      await assert.rejects(
        reads.get(['marker', 2], async () => 2),
        (error) => {
          assert.equal(toAppError(error, { method: 'GET', url: '/' }).code, 'SERVICE_UNAVAILABLE', String(error));
          return true;
        },
      );
      assert.equal(await reads.get(['marker', 3], async () => 3), 3);
    } finally {
      await storage.close();
    }
  });

  it('a connection whose session ended under a query is not handed to the next one', async () => {
    const name = `${schemaOf(server)}_one`;
    const storage = await openStorage({
      kind: 'postgres',
      url: postgresUrl(name),
      poolSize: 1,
      schema: schemaOf(server),
    });
    const organizations = () => storage.db.selectFrom('organizations').select('id').execute();
    try {
      await organizations();
      endSessionsUnnoticed(name);
      await assert.rejects(organizations(), { code: '57P01' });
      // At once, before the closed socket is read: only a new connection can answer.
      assert.ok((await organizations()).length >= 1);
    } finally {
      await storage.close();
    }
  });

  it('a session that the server closes after idle_session_timeout is dropped, and the next query connects anew', async () => {
    const name = `${schemaOf(server)}_idle`;
    const storage = await openStorage({
      kind: 'postgres',
      url: postgresUrl(name),
      poolSize: 1,
      schema: schemaOf(server),
    });
    const lost: Error[] = [];
    storage.onConnectionLost((error) => lost.push(error));
    try {
      await sql`set idle_session_timeout = 200`.execute(storage.db);
      for (const started = Date.now(); lost.length === 0 && Date.now() - started < 5_000; ) await sleep(50);
      assert.equal(lost.length, 1, 'the idle connection was closed by the server and reported');
      assert.ok((await storage.db.selectFrom('organizations').select('id').execute()).length >= 1);
    } finally {
      await storage.close();
    }
  });

  it('a session ended between two statements of a transaction: logged, rolled back, and the pool goes on', async () => {
    const name = `${schemaOf(server)}_trx`;
    const storage = await openStorage({
      kind: 'postgres',
      url: postgresUrl(name),
      poolSize: 1,
      schema: schemaOf(server),
    });
    const lost: Error[] = [];
    storage.onConnectionLost((error) => lost.push(error));
    try {
      const renamed = storage.transaction(async (trx) => {
        await trx.updateTable('organizations').set({ name: 'renamed' }).where('id', '=', orgId).execute();
        endSessionsUnnoticed(name);
        // The client is checked out and has no query running when it learns of the end.
        await sleep(200);
        await trx.selectFrom('organizations').select('id').execute();
      });
      await assert.rejects(renamed, (error) => {
        assert.equal(toAppError(error, { method: 'GET', url: '/' }).code, 'SERVICE_UNAVAILABLE', String(error));
        return true;
      });
      assert.equal(lost.length, 1, 'the loss was reported once');
      const org = await storage.db
        .selectFrom('organizations')
        .select('name')
        .where('id', '=', orgId)
        .executeTakeFirst();
      assert.notEqual(org?.name, 'renamed');
    } finally {
      await storage.close();
    }
  });

  describe('the CLI', () => {
    const cliEnv = (name: string) => ({ ...server.database.env, DATABASE_URL: postgresUrl(name) });

    it('a command whose query loses its connection fails with one clear line', async () => {
      const name = `${schemaOf(server)}_cli`;
      const lock = await holdLock(server, 'api_keys');
      const listing = runCli(['keys', 'list', '--org', orgId], cliEnv(name));
      try {
        for (const started = Date.now(); ; await sleep(20)) {
          // The listing's own query: the migrations at the command's start may wait for the
          // migrator's database-wide lock too, while another schema of the database migrates.
          if ((await terminateBackends(name, "wait_event_type = 'Lock' and query like '%api_keys%'")) > 0) break;
          assert.ok(Date.now() - started < 20_000, 'the command never came to wait for the lock');
        }
      } finally {
        await lock.release();
      }
      const result = await listing;
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stdout, '');
      assert.equal(
        result.stderr,
        'freddy-analytics: The connection to the database was lost (terminating connection due to administrator command)\n',
      );
    });

    it('an import whose connections are ended now and then finishes or fails cleanly, and a re-run stores each event once', async () => {
      const name = `${schemaOf(server)}_import`;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-lost-'));
      const file = path.join(dir, 'events.ndjson');
      const lines = Array.from({ length: 6_000 }, (_, i) =>
        JSON.stringify({
          id: `imp-${i}`,
          organization_id: orgId,
          model: 'gpt-4o',
          neurons: 10,
          synapses: 5,
          cost: '0.01',
        }),
      );
      fs.writeFileSync(file, `${lines.join('\n')}\n`);
      try {
        let done = false;
        const importing = runCli(['import', file], cliEnv(name)).finally(() => {
          done = true;
        });
        let ended = 0;
        while (!done) {
          await sleep(20);
          ended += await terminateBackends(name);
        }
        const first = await importing;
        assert.ok(ended >= 1, 'no session of the import was ended');
        assert.doesNotMatch(first.stderr, /Unhandled|node:events|at /, first.stderr);
        if (first.code !== 0) {
          assert.equal(first.code, 1, first.stderr);
          assert.match(first.stderr, /^freddy-analytics: The connection to the database was lost \([^\n]*\)\n$/);
        }
        const again = await runCli(['import', file, '--json'], cliEnv(name));
        assert.equal(again.code, 0, again.stderr);
        const summary = JSON.parse(again.stdout);
        assert.equal(summary.accepted + summary.duplicates, 6_000);
        const stored = await server.storage.db
          .selectFrom('usage_events')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('organization_id', '=', orgId)
          .where('id', 'like', 'imp-%')
          .executeTakeFirstOrThrow();
        assert.equal(toNumber(stored.n), 6_000);
        assert.deepEqual((await checkRollups(server.storage.db, orgId)).differences, []);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
