/**
 * Platform admin keys from the command line, on both engines: list, delete, the last one only
 * with --force, and what the server does when it starts with none left.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../harness.ts';
import { runCli, startServerProcess } from '../process.ts';

const VIEW_FIELDS = ['created_at', 'deleted_at', 'id', 'key_name', 'key_prefix', 'last_used_at', 'state'];

for (const dialect of DIALECTS) {
  describe(`freddy-analytics keys --admin [${dialect}]`, () => {
    let database: TestDatabase;
    before(async () => {
      database = await createTestDatabase(dialect);
    });
    after(async () => database.drop());
    const cli = (...args: string[]) => runCli(['keys', ...args], database.env);

    it('lists and deletes admin keys, the last one only with --force; a restart then mints none', async () => {
      const other = JSON.parse((await cli('create', '--admin', '--name', 'other', '--json')).stdout);
      const spare = JSON.parse((await cli('create', '--admin', '--name', 'spare', '--json')).stdout);
      const listed = await cli('list', '--admin', '--json');
      assert.equal(listed.code, 0, listed.stderr);
      const { admin_keys: keys, pagination } = JSON.parse(listed.stdout);
      assert.deepEqual(
        keys.map((k: { id: string }) => k.id),
        [spare.id, other.id],
      );
      assert.equal(pagination.total_count, 2);
      for (const key of keys) assert.deepEqual(Object.keys(key).sort(), VIEW_FIELDS);
      assert.ok(!listed.stdout.includes(spare.key) && !listed.stdout.includes(other.key));
      assert.match((await cli('list', '--admin')).stdout, new RegExp(`^${spare.id}  ${spare.key_prefix}…  active`));

      const deleted = await cli('delete', '--admin', other.id);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.equal(deleted.stdout, `${other.id} is now deleted\n`);
      assert.equal(deleted.stderr, '');

      const refused = await cli('delete', '--admin', spare.id);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^freddy-analytics: CONFLICT: .* is the last active platform admin key\b.*--force/);
      // Refused, so still active: --force now deletes it (an already deleted key would be 404).
      const forced = await cli('delete', '--admin', spare.id, '--force', '--json');
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal(JSON.parse(forced.stdout).state, 'deleted');
      assert.match(forced.stderr, /No active platform admin key is left.*keys create --admin/);
      const all = JSON.parse((await cli('list', '--admin', '--include-deleted', '--json')).stdout).admin_keys;
      assert.deepEqual(
        all.map((k: { state: string }) => k.state),
        ['deleted', 'deleted'],
      );

      const server = await startServerProcess(database.env);
      try {
        assert.doesNotMatch(server.stderr.join(''), /fak_/, 'no new admin key is minted and printed');
        const warning = server.stdout.map((line) => JSON.parse(line)).find((line) => line.level === 40);
        assert.match(warning?.msg ?? '', /No active platform admin key.*keys create --admin/);
        const asAdmin = (key: string) => fetch(`${server.url}/v1/admin-keys`, { headers: { 'x-api-key': key } });
        assert.equal((await asAdmin(spare.key)).status, 401);
        const recovered = JSON.parse((await cli('create', '--admin', '--name', 'recovered', '--json')).stdout);
        assert.equal((await asAdmin(recovered.key)).status, 200);
      } finally {
        server.child.kill('SIGTERM');
        assert.equal(await server.exited, 0);
      }
    });

    it('refuses --force for an organization key, and --org with --admin', async () => {
      const force = await cli('delete', 'apikey_x', '--org', 'org_x', '--force');
      assert.equal(force.code, 1);
      assert.equal(force.stderr, 'freddy-analytics: INVALID_REQUEST: --force applies to --admin only\n');
      const both = await cli('list', '--org', 'org_x', '--admin');
      assert.equal(both.code, 1);
      assert.equal(both.stderr, 'freddy-analytics: INVALID_REQUEST: give exactly one of --org ORG or --admin\n');
    });
  });
}
