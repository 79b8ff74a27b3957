/**
 * RAW_EVENTS_RETENTION_MONTHS as an operator uses it: `serve` started with it removes the raw
 * events of past months on its own at start, late events are refused by that server and by
 * `import`, and `verify` passes, saying which months it left out. On both engines.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { assertEnvelope, forEachDialect, ingest, makeOrg, waitFor } from '../harness.ts';
import { runCli, startServerProcess } from '../process.ts';

/** The first day of the month `offset` months from the current UTC one. */
function monthStart(offset: number): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
}

forEachDialect('raw event retention in a running server', (server) => {
  it('removes past months at start, refuses their events, and verify passes', async () => {
    const orgId = (await makeOrg(server())).id;
    const old = (id: string, offset: number) => ({
      id,
      organization_id: orgId,
      model: 'gpt-4o',
      neurons: 100,
      synapses: 20,
      cost: '0.25',
      timestamp: new Date(monthStart(offset).getTime() + 3_600_000).toISOString(),
    });
    await ingest(server(), [old('two-months-ago', -2), old('last-month', -1), old('this-month', 0)]);
    const monthly = `/v1/analytics/usage/monthly/${orgId}?months=3`;
    const before = await server().request('GET', monthly, { key: server().adminKey });
    assert.equal(before.status, 200);

    const env = { ...server().database.env, RAW_EVENTS_RETENTION_MONTHS: '1' };
    const proc = await startServerProcess(env);
    try {
      await waitFor(
        () => proc.stdout.some((line) => line.includes('RAW_EVENTS_RETENTION_MONTHS removed')),
        'retention at start',
      );
      const horizon = monthStart(0).toISOString();
      const late = await fetch(`${proc.url}/v1/usage/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': server().adminKey },
        body: JSON.stringify({ events: [old('last-month', -1)] }),
      });
      const body = (await late.json()) as any;
      assertEnvelope(assert, { status: late.status, headers: late.headers, body, text: '' }, 400, 'INVALID_REQUEST');
      assert.ok(body.error.details.errors[0].reason.includes(`must not be before ${horizon}`), JSON.stringify(body));

      const after = await fetch(`${proc.url}${monthly}`, { headers: { 'x-api-key': server().adminKey } });
      assert.deepEqual(await after.json(), before.body);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }

    // Without the setting, the removed months stay closed to the CLI import as well.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-retention-'));
    const file = path.join(dir, 'late.ndjson');
    fs.writeFileSync(file, `${JSON.stringify(old('two-months-ago', -2))}\n`);
    const imported = await runCli(['import', file], server().database.env);
    assert.equal(imported.code, 2, imported.stderr);
    assert.match(imported.stderr, /late\.ndjson:1: .*timestamp must not be before/);
    fs.rmSync(dir, { recursive: true, force: true });

    const verify = await runCli(['verify'], server().database.env);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const removedMonth = monthStart(0).toISOString().slice(0, 7);
    assert.match(verify.stdout, new RegExp(`Months before ${removedMonth} not checked`));
    assert.match(verify.stdout, /0 difference\(s\)/);
  });
});
