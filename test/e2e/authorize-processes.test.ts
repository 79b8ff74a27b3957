/**
 * The budget check across server processes: two processes on one PostgreSQL database admit
 * exactly as many concurrent requests as the budget covers, together.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { createAdminKey } from '../../src/modules/admin-keys/admin-keys.service.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { openStorage } from '../../src/storage/storage.ts';
import { createTestDatabase, DIALECTS, makeApiKey, makeOrg, type TestServer } from '../harness.ts';
import { startServerProcess } from '../process.ts';

// PostgreSQL only: several server processes share a database only there (SQLite serves one process).
describe('POST /v1/usage/authorize across two server processes [postgres]', {
  skip: !DIALECTS.includes('postgres'),
}, () => {
  const N = 9;
  const M = 120;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const children: ChildProcess[] = [];
  let urls: string[] = [];
  let admin: string;
  let orgId: string;
  let apiKeyId: string;

  before(async () => {
    database = await createTestDatabase('postgres');
    const storage = await openStorage(database.config);
    try {
      await migrateToLatest(storage);
      admin = (await createAdminKey(storage.db, 'test admin', Date.now())).secret;
      const server = { storage } as TestServer;
      orgId = (await makeOrg(server)).id;
      // Remaining budget 2.7 CHF covers exactly N = 9 requests estimated at 0.30 CHF.
      apiKeyId = (await makeApiKey(server, orgId, { monthlyLimitNano: 2_700_000_000n })).id;
    } finally {
      await storage.close();
    }
    const started = await Promise.all([startServerProcess(database.env), startServerProcess(database.env)]);
    for (const s of started) children.push(s.child);
    urls = started.map((s) => s.url);
  });

  after(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    await database?.drop();
  });

  it(`admits exactly ${N} of ${M} concurrent requests spread over both processes`, async () => {
    const results = await Promise.all(
      Array.from({ length: M }, async (_, i) => {
        const response = await fetch(`${urls[i % 2]}/v1/usage/authorize`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': admin },
          body: JSON.stringify({ organization_id: orgId, api_key_id: apiKeyId, estimated_cost: '0.30' }),
        });
        return { status: response.status, process: i % 2 };
      }),
    );
    const admitted = results.filter((r) => r.status === 200);
    assert.equal(admitted.length, N, JSON.stringify(results.map((r) => r.status)));
    assert.equal(results.filter((r) => r.status === 429).length, M - N);
    const storage = await openStorage(database.config);
    try {
      const rows = await storage.db
        .selectFrom('reservations')
        .select('id')
        .where('organization_id', '=', orgId)
        .execute();
      assert.equal(rows.length, N);
    } finally {
      await storage.close();
    }
  });
});
