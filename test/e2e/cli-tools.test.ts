/**
 * The everyday commands as an operator runs them: `import` (NDJSON and CSV, bad lines,
 * re-import), `report` (text and --json against the API) and `demo`, on both engines.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { importFile } from '../../src/cli/import.ts';
import { forEachDialect, makeApiKey, makeOrg } from '../harness.ts';
import { runCli } from '../process.ts';

/** The month before the current one, so that every event of the tests lies in the past. */
const now = new Date();
const lastMonth = { year: now.getUTCFullYear(), month: now.getUTCMonth() };
if (lastMonth.month === 0) Object.assign(lastMonth, { year: lastMonth.year - 1, month: 12 });
const MONTH = `${lastMonth.year}-${String(lastMonth.month).padStart(2, '0')}`;
const at = (day: number) => `${MONTH}-${String(day).padStart(2, '0')}T12:00:00Z`;

forEachDialect('import, report and demo commands', (server) => {
  let dir: string;
  let orgId: string;
  let keyId: string;
  const env = () => server().database.env;
  const file = (name: string, lines: string[]) => {
    const target = path.join(dir, name);
    fs.writeFileSync(target, `${lines.join('\n')}\n`);
    return target;
  };
  const event = (id: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      id,
      organization_id: orgId,
      model: 'gpt-4o',
      neurons: 100,
      synapses: 20,
      cost: '0.25',
      timestamp: at(3),
      ...extra,
    });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-import-'));
    orgId = (await makeOrg(server())).id;
    keyId = (await makeApiKey(server(), orgId, { monthlyLimitNano: 2_500_000_000n })).id;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('imports NDJSON, reports bad lines by number and keeps the rest; a re-import is all duplicates', async () => {
    const ndjson = file('events.ndjson', [
      event('n1', { api_key_id: keyId }),
      event('n2', { api_key_id: keyId, model: 'claude-3-5-sonnet', cost: 1.5 }),
      '{"id": "n3", not json',
      '',
      event('n4', { organization_id: 'org_nobodyhasthisid000' }),
      event('n5', { neurons: -1 }),
      event('n6', { api_key_id: null }),
    ]);
    const first = await runCli(['import', ndjson], env());
    assert.equal(first.code, 2, first.stderr);
    assert.match(
      first.stdout,
      /^Imported 3 events \(0 duplicates, 3 bad lines\) from .*events\.ndjson in \d+\.\d s\n$/,
    );
    // In file order, whether the line's shape was wrong or the batch refused it.
    const bad = first.stderr.trim().split('\n');
    assert.equal(bad.length, 3, first.stderr);
    assert.match(bad[0]!, /events\.ndjson:3: not valid JSON/);
    assert.match(bad[1]!, /events\.ndjson:5: organization_id names no known organization/);
    assert.match(bad[2]!, /events\.ndjson:6: neurons must be >= 0/);

    const again = await runCli(['import', ndjson, '--json'], env());
    assert.equal(again.code, 2);
    assert.deepEqual(
      { ...JSON.parse(again.stdout), seconds: 0 },
      { file: ndjson, accepted: 0, duplicates: 3, bad_lines: 3, unpriced: { events: 0, models: {} }, seconds: 0 },
    );

    const report = JSON.parse((await runCli(['report', '--org', orgId, '--month', MONTH, '--json'], env())).stdout);
    assert.equal(report.totals.requests, 3);
    assert.equal(report.totals.cost, 2);
    assert.equal(report.api_key_totals.requests, 2);
  });

  it('imports CSV with a header row; empty cells are absent; exit 0 when every line is good', async () => {
    const csv = file('events.csv', [
      'id,organization_id,api_key_id,model,neurons,synapses,cost,timestamp',
      `c1,${orgId},${keyId},gpt-4o-mini,10,5,0.5,${at(4)}`,
      `c2,${orgId},,"gpt-4o-mini",10,5,"0.25",${at(5)}`,
    ]);
    const first = await runCli(['import', csv], env());
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^Imported 2 events \(0 duplicates, 0 bad lines\)/);
    assert.equal(first.stderr, '');
    const again = await runCli(['import', csv], env());
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^Imported 0 events \(2 duplicates, 0 bad lines\)/);

    const broken = file('broken.data', [
      'id,organization_id,api_key_id,model,neurons,synapses,cost,timestamp',
      `c3,${orgId},,gpt-4o-mini,10,5,0.5,${at(4)}`,
      `c4,${orgId},,gpt-4o-mini,10`,
      `c5,${orgId},,gpt-4o-mini,ten,5,0.5,${at(4)}`,
      `c6,${orgId},apikey_unknownkey0000000,gpt-4o-mini,10,5,0.5,${at(4)}`,
      `c7,${orgId},,gpt-4o-mini,10,5,0.5,${at(4)}`,
    ]);
    const mixed = await runCli(['import', broken, '--format', 'csv'], env());
    assert.equal(mixed.code, 2);
    assert.match(mixed.stdout, /^Imported 2 events \(0 duplicates, 3 bad lines\)/);
    assert.match(mixed.stderr, /broken\.data:3: bad CSV row/);
    assert.match(mixed.stderr, /broken\.data:4: neurons must be integer/);
    assert.match(mixed.stderr, /broken\.data:5: api_key_id is not an API key of the organization/);

    const unknown = await runCli(['import', broken], env());
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^freddy-analytics: INVALID_REQUEST: cannot tell the format .* --format/);
  });

  it('maps a bad event in a later batch to its line and stores the other events of that batch', async () => {
    const lines = Array.from({ length: 2500 }, (_, i) =>
      event(`bulk${i + 1}`, i + 1 === 1500 ? { api_key_id: 'apikey_unknownkey0000000' } : { timestamp: at(10) }),
    );
    const result = await runCli(['import', file('bulk.jsonl', lines)], env());
    assert.equal(result.code, 2);
    assert.match(result.stdout, /^Imported 2499 events \(0 duplicates, 1 bad lines\)/);
    assert.match(result.stderr, /^.*bulk\.jsonl:1500: api_key_id is not an API key of the organization\n$/);
  });

  it('imports a leap second as the last millisecond of its minute, as the API does', async () => {
    const leapOrg = (await makeOrg(server())).id;
    const leap = file('leap.ndjson', [
      event('leap', { organization_id: leapOrg, timestamp: '2016-12-31T23:59:60Z' }),
      event('noon', { organization_id: leapOrg, timestamp: '2016-12-31T12:00:60Z' }),
    ]);
    const bad: string[] = [];
    const summary = await importFile(server().ctx, leap, {
      format: 'ndjson',
      onBadLine: (line, reason) => bad.push(`${line}: ${reason}`),
    });
    assert.deepEqual(summary, { accepted: 1, duplicates: 0, badLines: 1, unpriced: new Map() });
    assert.match(bad[0]!, /^2: timestamp must be an ISO-8601 time with a zone/);
    const stored = await server()
      .storage.db.selectFrom('usage_events')
      .select('occurred_at')
      .where('organization_id', '=', leapOrg)
      .executeTakeFirstOrThrow();
    assert.equal(Number(stored.occurred_at), Date.UTC(2016, 11, 31, 23, 59, 59, 999));
  });

  it('says what the exit codes mean in --help', async () => {
    const help = await runCli(['import', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes: 0 .*2 some lines were bad/s);
  });

  it('reports a month as tables, and as JSON equal to what the API answers', async () => {
    const text = await runCli(['report', '--org', orgId, '--month', MONTH], env());
    assert.equal(text.code, 0, text.stderr);
    const json = JSON.parse((await runCli(['report', '--org', orgId, '--month', MONTH, '--json'], env())).stdout);
    const admin = server().adminKey;
    const daily = (
      await server().request(
        'GET',
        `/v1/analytics/usage/daily/${orgId}?year=${lastMonth.year}&month=${lastMonth.month}`,
        { key: admin },
      )
    ).body;
    assert.equal(json.totals.requests, daily.totalRequests);
    assert.equal(json.totals.cost, daily.totalCost);
    const keyUsage = (
      await server().request(
        'GET',
        `/v1/analytics/api-keys/usage/${orgId}/${keyId}?year=${lastMonth.year}&month=${lastMonth.month}`,
        { key: admin },
      )
    ).body;
    const key = json.api_keys.find((k: { api_key_id: string }) => k.api_key_id === keyId);
    assert.equal(key.requests, keyUsage.usage.totalRequests);
    assert.equal(key.cost, keyUsage.usage.totalCost);
    assert.deepEqual(key.limit, keyUsage.limit);
    assert.equal(key.limit.status, 'warning');

    const totalLine = text.stdout.split('\n').find((line) => line.startsWith('Total'));
    assert.match(
      totalLine ?? '',
      new RegExp(`\\s${daily.totalRequests.toLocaleString('en-US')}\\s.*\\s${daily.totalCost.toFixed(2)}$`),
    );
    assert.match(
      text.stdout,
      new RegExp(`${keyId}\\s.*\\s${keyUsage.usage.totalCost.toFixed(2)}\\s+2\\.50\\s+.*warning`),
    );
    assert.match(text.stdout, /^claude-3-5-sonnet\s+1\s+1\.50\s+/m);
  });

  it('reports a month by one dimension, as the breakdown answers it', async () => {
    const text = await runCli(['report', '--org', orgId, '--month', MONTH, '--by', 'model'], env());
    assert.equal(text.code, 0, text.stderr);
    const json = JSON.parse(
      (await runCli(['report', '--org', orgId, '--month', MONTH, '--by', 'model', '--json'], env())).stdout,
    );
    const next =
      lastMonth.month === 12
        ? `${lastMonth.year + 1}-01`
        : `${lastMonth.year}-${String(lastMonth.month + 1).padStart(2, '0')}`;
    const api = await server().request(
      'GET',
      `/v1/analytics/usage/breakdown/${orgId}?window=month&from=${MONTH}-01&to=${next}-01&group_by=model&limit=20`,
      { key: server().adminKey },
    );
    assert.deepEqual(json.rows, api.body.rows);
    assert.deepEqual(json.totals, api.body.totals);
    assert.ok(json.rows.length > 0);
    for (const row of api.body.rows) {
      assert.match(
        text.stdout,
        new RegExp(
          `^${row.group.model}\\s+${row.requests.toLocaleString('en-US')}\\s.*\\s${row.cost.toFixed(2)}\\s`,
          'm',
        ),
      );
    }
    assert.match(text.stdout, new RegExp(`^Total\\s+${api.body.totals.requests.toLocaleString('en-US')}\\s`, 'm'));
    const bad = await runCli(['report', '--org', orgId, '--by', 'customer'], env());
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /INVALID_REQUEST: .*customer/);
  });

  it('refuses a bad month or an unknown organization with one line and exit 1', async () => {
    for (const month of ['2026-13', '2026-1', 'november']) {
      const result = await runCli(['report', '--org', orgId, '--month', month], env());
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^freddy-analytics: INVALID_REQUEST: --month must be a month as YYYY-MM.*\n$/);
    }
    const unknown = await runCli(['report', '--org', 'org_nobodyhasthisid000'], env());
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr.split('\n').length, 2);
  });

  it('creates a demo organization whose usage the API reports with the printed key', async () => {
    const result = await runCli(['demo', '--seed', '3', '--months', '3', '--json'], env());
    assert.equal(result.code, 0, result.stderr);
    const demo = JSON.parse(result.stdout);
    assert.equal(demo.organization_name, 'Demo Org');
    assert.equal(demo.api_keys.length, 3);
    assert.ok(demo.events > 1000);
    const summary = await server().request('GET', `/v1/analytics/usage/summary/${demo.organization_id}`, {
      key: demo.read_key,
    });
    assert.equal(summary.status, 200, summary.text);
    assert.ok(summary.body.totalRequests > 0 && summary.body.totalCost > 0);
    assert.equal(summary.body.topModels.length, 5);
    const report = JSON.parse((await runCli(['report', '--org', demo.organization_id, '--json'], env())).stdout);
    assert.deepEqual(
      report.api_keys.map((k: { limit: { status: string } }) => k.limit.status),
      ['warning', 'no_limit', 'no_limit'],
    );
    const text = await runCli(['demo', '--seed', '3', '--months', '1'], env());
    assert.match(text.stdout, /Read-only key \(shown once\):\n {2}fak_/);
    assert.match(text.stdout, /\/dashboard/);
  });
});
