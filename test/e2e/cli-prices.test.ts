/**
 * `prices set` and `prices list` with cache prices and an organization's own prices, and
 * `reprice` applying them, as an operator runs them, on both engines.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { toBigInt } from '../../src/storage/values.ts';
import { forEachDialect, ingest, makeOrg } from '../harness.ts';
import { runCli } from '../process.ts';

const MODEL = 'cli-negotiated';

forEachDialect('prices and reprice commands', (server) => {
  let orgId: string;
  const env = () => server().database.env;

  before(async () => {
    orgId = (await makeOrg(server())).id;
  });

  it("sets a platform price with a cached price, and an organization's own price", async () => {
    const platform = await runCli(
      [
        'prices',
        'set',
        '--model',
        MODEL,
        '--neurons',
        '8',
        '--synapses',
        '80',
        '--cached',
        '0.8',
        '--from',
        '2025-01-01T00:00:00Z',
      ],
      env(),
    );
    assert.equal(platform.code, 0, platform.stderr);
    assert.match(platform.stdout, /8\.00 CHF per 1M neurons \(cached 0\.80\), 80\.00 CHF per 1M synapses/);
    const own = await runCli(
      [
        'prices',
        'set',
        '--org',
        orgId,
        '--model',
        MODEL,
        '--neurons',
        '4',
        '--synapses',
        '40',
        '--cache-write',
        '5',
        '--from',
        '2025-11-01T00:00:00Z',
        '--json',
      ],
      env(),
    );
    assert.equal(own.code, 0, own.stderr);
    assert.deepEqual(JSON.parse(own.stdout), {
      organization_id: orgId,
      model: MODEL,
      pattern: false,
      neurons_chf_per_million: 4,
      synapses_chf_per_million: 40,
      cache_write_neurons_chf_per_million: 5,
      effective_from: '2025-11-01T00:00:00Z',
      source: 'organization',
    });
  });

  it("lists the organization's sheet with sources, and refuses an unknown organization or a bad amount", async () => {
    const list = await runCli(['prices', 'list', '--org', orgId, '--at', '2025-11-01T00:00:00Z', '--json'], env());
    assert.equal(list.code, 0, list.stderr);
    const sheet = JSON.parse(list.stdout);
    assert.equal(sheet.organization_id, orgId);
    const models = sheet.models as Array<{ model: string; source: string; neurons_chf_per_million: number }>;
    assert.deepEqual(
      models.filter((m) => m.model === MODEL || m.model === 'gpt-4o').map((m) => [m.model, m.source]),
      [
        [MODEL, 'organization'],
        ['gpt-4o', 'platform'],
      ],
    );
    const text = await runCli(['prices', 'list', '--org', orgId, '--at', '2025-10-31T23:59:59Z'], env());
    assert.match(
      text.stdout,
      new RegExp(`${MODEL}\\s+8\\.00\\s+0\\.80\\s+-\\s+80\\.00\\s+2025-01-01T00:00:00Z\\s+platform`),
    );

    const unknown = await runCli(
      ['prices', 'set', '--org', 'org_nobody', '--model', MODEL, '--neurons', '1', '--synapses', '1'],
      env(),
    );
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /ORGANIZATION_NOT_FOUND/);
    const bad = await runCli(
      ['prices', 'set', '--model', MODEL, '--neurons', '1', '--synapses', '1', '--cached', '0.0000000000001'],
      env(),
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--cached/);
  });

  it("reprices the organization's events at its own price", async () => {
    await ingest(server(), [
      {
        id: 'r1',
        organization_id: orgId,
        model: 'cli-negotiated-typo',
        neurons: 1000,
        synapses: 100,
        timestamp: '2025-11-05T00:00:00Z',
      },
    ]);
    // Stored at cost 0 without a price, then its model gets one and the command reprices it.
    const set = await runCli(
      [
        'prices',
        'set',
        '--org',
        orgId,
        '--model',
        'cli-negotiated-typo',
        '--neurons',
        '2',
        '--synapses',
        '20',
        '--from',
        '2025-11-01T00:00:00Z',
      ],
      env(),
    );
    assert.equal(set.code, 0, set.stderr);
    const reprice = await runCli(['reprice', '--model', 'cli-negotiated-typo', '--json'], env());
    assert.equal(reprice.code, 0, reprice.stderr);
    assert.equal(JSON.parse(reprice.stdout).changed, 1);
    const row = await server()
      .storage.db.selectFrom('usage_events')
      .select('cost_nano')
      .where('organization_id', '=', orgId)
      .where('id', '=', 'r1')
      .executeTakeFirstOrThrow();
    // 1000 × 2 + 100 × 20 CHF per 1M = 0.004 CHF.
    assert.equal(toBigInt(row.cost_nano), 4_000_000n);
  });
});
