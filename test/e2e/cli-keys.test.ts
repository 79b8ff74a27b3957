/** Key management from the command line, against the database a running server uses. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, it } from 'node:test';
import { forEachDialect, makeApiKey, makeOrg } from '../harness.ts';
import { BIN } from '../process.ts';

forEachDialect('API-key management in the CLI', (server) => {
  let orgId: string;
  let manager: string;
  const base = () => `/v1/organizations/${orgId}/api-keys`;
  const call = (method: string, url: string, body?: unknown) =>
    server().request(method, url, { key: manager, ...(body === undefined ? {} : { body }) });

  before(async () => {
    orgId = (await makeOrg(server())).id;
    manager = (await makeApiKey(server(), orgId, { name: 'manager' })).secret;
  });

  it('offers the same operations in the CLI', async () => {
    const key = await makeApiKey(server(), orgId, { name: 'cli key' });
    const cli = (...args: string[]) => {
      const run = spawnSync(process.execPath, [BIN, 'keys', ...args, '--org', orgId], {
        env: { ...process.env, ...server().database.env },
        encoding: 'utf8',
      });
      return { status: run.status, stdout: run.stdout, stderr: run.stderr };
    };
    const updated = cli('update', key.id, '--name', 'renamed', '--limit', '7.5', '--json');
    assert.equal(updated.status, 0, updated.stderr);
    assert.equal(JSON.parse(updated.stdout).usage_limit_chf, 7.5);
    const paused = cli('pause', key.id, '--json');
    assert.equal(paused.status, 0, paused.stderr);
    assert.equal(JSON.parse(paused.stdout).state, 'paused');
    assert.equal((await call('GET', `${base()}/${key.id}`)).body.state, 'paused');
    assert.equal(cli('deactivate', key.id).status, 0);
    const shown = cli('show', key.id, '--json');
    assert.deepEqual(JSON.parse(shown.stdout), (await call('GET', `${base()}/${key.id}`)).body);
    assert.equal(JSON.parse(shown.stdout).is_active, false);
    const deletedAt = Date.now();
    assert.equal(cli('delete', key.id).status, 0);
    const row = await server()
      .storage.db.selectFrom('api_keys')
      .select('deleted_at')
      .where('id', '=', key.id)
      .executeTakeFirstOrThrow();
    const recorded = Number(row.deleted_at);
    assert.ok(recorded >= deletedAt && recorded <= Date.now(), 'the CLI records when the key was deleted');
    const again = cli('activate', key.id);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /API_KEY_NOT_FOUND/);
    const listed = JSON.parse(cli('list', '--include-deleted', '--json').stdout);
    assert.ok(listed.api_keys.some((k: { id: string; is_active: boolean }) => k.id === key.id && !k.is_active));
    assert.ok(!listed.api_keys.some((k: { key?: string }) => k.key !== undefined));

    const carried = cli('create', '--name', 'carried over', '--created-at', '2024-03-01T00:00:00Z', '--json');
    assert.equal(carried.status, 0, carried.stderr);
    assert.equal(JSON.parse(carried.stdout).created_at, '2024-03-01T00:00:00Z');
    const future = cli('create', '--name', 'too early', '--created-at', '2999-01-01T00:00:00Z');
    assert.equal(future.status, 1);
    assert.match(future.stderr, /created_at must be from 2000-01-01T00:00:00Z to now/);
  });
});
