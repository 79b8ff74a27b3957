/** The command line against a real database on both engines, and the server process itself. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, DIALECTS, postgresSettingsOff, type TestDatabase } from '../harness.ts';
import { runCli, startServerProcess } from '../process.ts';

for (const dialect of DIALECTS) {
  describe(`freddy-analytics CLI [${dialect}]`, () => {
    let database: TestDatabase;
    before(async () => {
      database = await createTestDatabase(dialect);
    });
    after(async () => database.drop());

    it('migrates, then reports the schema current', async () => {
      const first = await runCli(['migrate'], database.env);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^Applied 2026_11_23_0001_initial/);
      const second = await runCli(['migrate'], database.env);
      assert.equal(second.stdout, 'Schema is up to date\n');
    });

    it('creates an organization, a key of it and an admin key, each as one JSON object', async () => {
      const org = await runCli(['orgs', 'create', '--name', 'Acme', '--json'], database.env);
      assert.equal(org.code, 0, org.stderr);
      const { id: orgId, name } = JSON.parse(org.stdout);
      assert.match(orgId, /^org_[0-9a-z]{20}$/);
      assert.equal(name, 'Acme');

      const key = await runCli(
        [
          'keys',
          'create',
          '--org',
          orgId,
          '--name',
          'Gateway',
          '--scopes',
          'read:usage,write:usage',
          '--limit',
          '500',
          '--json',
        ],
        database.env,
      );
      assert.equal(key.code, 0, key.stderr);
      const created = JSON.parse(key.stdout);
      assert.match(created.id, /^apikey_/);
      assert.match(created.key, /^fak_[A-Za-z0-9]{40}$/);
      assert.equal(created.key.slice(0, 12), created.key_prefix);
      assert.equal(created.usage_limit_chf, 500);
      assert.deepEqual(created.scopes, ['read:usage', 'write:usage']);
      assert.equal(key.stdout.trim().split('\n').length, 1);

      const admin = await runCli(['keys', 'create', '--admin', '--name', 'ops', '--json'], database.env);
      assert.equal(admin.code, 0, admin.stderr);
      assert.match(JSON.parse(admin.stdout).key, /^fak_/);
    });

    it('lists, shows and renames organizations', async () => {
      const created = JSON.parse((await runCli(['orgs', 'create', '--name', 'Listed', '--json'], database.env)).stdout);
      const list = await runCli(['orgs', 'list', '--page-size', '100', '--json'], database.env);
      assert.equal(list.code, 0, list.stderr);
      const page = JSON.parse(list.stdout);
      assert.ok(page.organizations.some((o: { id: string }) => o.id === created.id));
      assert.equal(page.pagination.total_count, page.organizations.length);
      const text = await runCli(['orgs', 'list'], database.env);
      assert.match(text.stdout, new RegExp(`^${created.id}  \\S+  Listed$`, 'm'));

      const renamed = await runCli(['orgs', 'rename', created.id, '--name', 'Renamed', '--json'], database.env);
      assert.equal(renamed.code, 0, renamed.stderr);
      assert.equal(JSON.parse(renamed.stdout).name, 'Renamed');
      const shown = await runCli(['orgs', 'show', created.id, '--json'], database.env);
      assert.deepEqual(JSON.parse(shown.stdout), { ...created, name: 'Renamed' });

      const unknown = await runCli(['orgs', 'show', 'org_nobodyhasthis'], database.env);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /ORGANIZATION_NOT_FOUND/);
      const blank = await runCli(['orgs', 'rename', created.id, '--name', '  '], database.env);
      assert.equal(blank.code, 1);
      assert.match(blank.stderr, /name must have 1 to 200 characters/);
    });

    it('refuses contradictory or bad options with one line and a non-zero exit', async () => {
      const both = await runCli(['keys', 'create', '--admin', '--org', 'org_x', '--name', 'x'], database.env);
      assert.equal(both.code, 1);
      assert.equal(both.stderr, 'freddy-analytics: INVALID_REQUEST: give exactly one of --org ORG or --admin\n');
      const scopes = await runCli(
        ['keys', 'create', '--org', 'org_x', '--name', 'x', '--scopes', 'root'],
        database.env,
      );
      assert.notEqual(scopes.code, 0);
      assert.match(scopes.stderr, /scopes are a comma-separated list of read:usage, write:usage, manage:keys/);
      const unknownOrg = await runCli(['keys', 'create', '--org', 'org_nope', '--name', 'x'], database.env);
      assert.equal(unknownOrg.code, 1);
      assert.match(unknownOrg.stderr, /ORGANIZATION_NOT_FOUND/);
    });
  });
}

describe('freddy-analytics serve', () => {
  for (const dialect of DIALECTS) {
    it(`starts on an empty database, prints a first admin key once, serves, and exits 0 on SIGTERM [${dialect}]`, async () => {
      const database = await createTestDatabase(dialect);
      try {
        const server = await startServerProcess(database.env);
        const secret = /\n {2}(fak_[A-Za-z0-9]{40})\n/.exec(server.stderr.join(''))?.[1];
        assert.ok(secret, server.stderr.join(''));
        const created = await fetch(`${server.url}/v1/organizations`, {
          method: 'POST',
          headers: { 'x-api-key': secret, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Acme' }),
        });
        assert.equal(created.status, 201);
        assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
        assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
        server.child.kill('SIGTERM');
        assert.equal(await server.exited, 0);
        // The secret never reaches the log.
        assert.ok(!server.stdout.join('\n').includes(secret));

        const again = await startServerProcess(database.env);
        assert.doesNotMatch(again.stderr.join(''), /fak_/, 'the first admin key is printed only once');
        again.child.kill('SIGTERM');
        assert.equal(await again.exited, 0);
      } finally {
        await database.drop();
      }
    });
  }

  for (const dialect of DIALECTS) {
    it(`warns at start when the database server would never vacuum the rollups, and only then [${dialect}]`, async () => {
      const database = await createTestDatabase(dialect);
      try {
        const server = await startServerProcess(database.env);
        server.child.kill('SIGTERM');
        assert.equal(await server.exited, 0);
        const warnings = server.stdout
          .map((line) => JSON.parse(line) as { level: number; msg: string })
          .filter((line) => line.level === 40)
          .map((line) => line.msg.split(':')[0]);
        const off = dialect === 'postgres' ? await postgresSettingsOff() : [];
        assert.deepEqual(
          warnings,
          off.map((name) => `PostgreSQL has ${name} off`),
        );
      } finally {
        await database.drop();
      }
    });
  }

  // SQLite only: on PostgreSQL the change marker moves with every commit anywhere in the
  // cluster, so whether a read hits depends on what other test files commit meanwhile; the
  // in-process test/read-memo.test.ts covers PostgreSQL by retrying, and READ_MEMO_ENTRIES
  // reaches the memo the same way for both engines (src/main.ts).
  it('reuses analytics answers between commits unless READ_MEMO_ENTRIES is 0 [sqlite]', {
    skip: !DIALECTS.includes('sqlite') && 'SQLite not enabled',
  }, async () => {
    for (const [env, hits] of [
      [{}, 1],
      [{ READ_MEMO_ENTRIES: '0' }, 0],
    ] as const) {
      const database = await createTestDatabase('sqlite');
      try {
        const server = await startServerProcess({ ...database.env, ...env });
        const secret = /\n {2}(fak_[A-Za-z0-9]{40})\n/.exec(server.stderr.join(''))?.[1];
        assert.ok(secret, server.stderr.join(''));
        const headers = { 'x-api-key': secret, 'content-type': 'application/json' };
        const created = await fetch(`${server.url}/v1/organizations`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ name: 'Acme' }),
        });
        const { id } = (await created.json()) as { id: string };
        for (let i = 0; i < 2; i++) {
          const summary = await fetch(`${server.url}/v1/analytics/usage/summary/${id}`, { headers });
          assert.equal(summary.status, 200);
        }
        const metrics = await (await fetch(`${server.url}/metrics`)).text();
        assert.match(metrics, new RegExp(`freddy_read_memo_lookups_total\\{result="hit"\\} ${hits}\n`));
        assert.match(metrics, new RegExp(`freddy_read_memo_lookups_total\\{result="miss"\\} ${2 - hits}\n`));
        server.child.kill('SIGTERM');
        assert.equal(await server.exited, 0);
      } finally {
        await database.drop();
      }
    }
  });

  const badSettings: Array<[Record<string, string>, string]> = [
    [
      { PORT: 'eighty' },
      'freddy-analytics: Invalid configuration: PORT must be an integer from 0 to 65535 (got "eighty")\n',
    ],
    [
      { DATABASE_URL: 'mysql://localhost/x' },
      'freddy-analytics: Invalid configuration: DATABASE_URL must start with postgres://, postgresql:// or sqlite: (got "mysql:…")\n',
    ],
  ];
  for (const [env, line] of badSettings) {
    it(`refuses to start with ${JSON.stringify(env)}, saying why in one line`, async () => {
      const result = await runCli(['serve'], env);
      assert.equal(result.code, 1);
      assert.equal(result.stderr, line);
    });
  }
});
