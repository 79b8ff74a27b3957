/**
 * A few seconds of `npm run bench -- --smoke` on each engine, and of bench/wal-pages.ts and
 * bench/settled-reservations.ts, so that the benchmark keeps working as the service changes.
 * The figures themselves are not judged here.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { EngineResult } from '../../bench/report.ts';
import { fromRoot } from '../../src/project-root.ts';
import { DIALECTS, POSTGRES_URL, postgresSettingsOff } from '../harness.ts';

// The compiled scripts, as `npm run bench` runs them.
const RUN = fromRoot('dist', 'bench', 'run.js');
const WAL_PAGES = fromRoot('dist', 'bench', 'wal-pages.js');
const SETTLED_RESERVATIONS = fromRoot('dist', 'bench', 'settled-reservations.js');

for (const dialect of DIALECTS) {
  test(`bench --smoke runs end to end on ${dialect} and writes its report`, async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-bench-smoke-'));
    try {
      await promisify(execFile)(process.execPath, [RUN, '--smoke', '--engine', dialect, '--out', out], {
        env: { ...process.env, BENCH_DATABASE_URL: POSTGRES_URL },
        // A bound for a run that hangs; the smoke run takes about a minute on an idle machine.
        timeout: 180_000,
      });
      const files = fs.readdirSync(out).sort();
      assert.equal(files.length, 2, `report files: ${files.join(', ')}`);
      const json = files.find((f) => f.endsWith(`-${dialect}.json`));
      assert.ok(json && files.includes(json.replace(/\.json$/, '.md')));
      const result = JSON.parse(fs.readFileSync(path.join(out, json), 'utf8')) as EngineResult;
      const { http, bulkBaseline } = result.ingestion;
      // Every event was answered, and the API and the bulk path agree on what is new.
      assert.equal(http.accepted + http.duplicates, result.events);
      assert.equal(http.accepted, bulkBaseline.accepted);
      assert.ok(http.duplicates > 0, 'the data has retried events');
      assert.ok(result.ingestion.peakRssMiB > 0);
      // The same events through NATS JetStream: the consumer stored as many as the API did.
      const queue = result.ingestion.queue;
      assert.ok(queue, 'ingestion through NATS was measured (NATS with JetStream on 127.0.0.1:4222)');
      assert.equal(queue.nats.accepted, queue.http.accepted);
      assert.equal(queue.nats.duplicates, queue.http.duplicates);
      assert.ok(queue.ratio > 0);
      // The summary was read while ingesting, every read answered.
      assert.ok((result.ingestion.summaryWhileIngesting?.samples ?? 0) > 0);
      for (const route of Object.keys(result.latency.big)) {
        assert.ok(result.latency.rawScanBig[route as keyof typeof result.latency.big].samples > 0, route);
      }
      for (const figures of Object.values(result.throughput.routes)) {
        assert.ok(figures.requestsPerSecond > 0);
        assert.equal(figures.errors, 0);
      }
      assert.equal(result.machine.cores, os.cpus().length);
      // A server without autovacuum gets its databases vacuumed, and the report says so.
      const vacuumed = dialect === 'postgres' && (await postgresSettingsOff()).length > 0;
      assert.equal(result.latency.bigBeforeVacuum !== undefined, vacuumed);
      const markdown = fs.readFileSync(path.join(out, json.replace(/\.json$/, '.md')), 'utf8');
      assert.equal(/autovacuum off/.test(markdown), vacuumed);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
}

/**
 * The numbers of the Markdown table row of `output` that starts with the cells `first`, after
 * those (bold marks dropped); undefined if there is no such row.
 */
function tableRow(output: string, first: string[]): number[] | undefined {
  const start = `| ${first.join(' | ')} |`;
  return output
    .split('\n')
    .find((line) => line.startsWith(start))
    ?.split('|')
    .slice(first.length + 1, -1)
    .map((cell) => Number(cell.replace(/\*/g, '')));
}

test('bench/wal-pages.ts names the B-trees that commits write, per group size', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [WAL_PAGES, '--events', '3000', '--groups', '1,3'], {
    timeout: 60_000,
  });
  const perEvent = (name: string) => tableRow(stdout, [name]);
  // Every event lands in the events' two indexes; the whole commit writes more than those two.
  for (const tree of ['sqlite_autoindex_usage_events_1', 'usage_events_org_time_idx']) {
    const [one, three] = perEvent(tree) ?? [];
    assert.ok(one! > 0 && three! > 0, stdout);
  }
  const [allOne, allThree] = perEvent('**all**') ?? [];
  assert.ok(allOne! > perEvent('usage_events_org_time_idx')![0]!, stdout);
  // Three batches per commit share pages that one batch per commit writes three times.
  assert.ok(allThree! < allOne!, stdout);
});

test('bench/settled-reservations.ts times the budget check per level of settled reservations', async () => {
  const engine = DIALECTS.includes('postgres') ? 'both' : 'sqlite';
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [SETTLED_RESERVATIONS, '--engine', engine, '--settled', '0,2000', '--checks', '20'],
    { env: { ...process.env, BENCH_DATABASE_URL: POSTGRES_URL }, timeout: 60_000 },
  );
  for (const dialect of engine === 'both' ? ['sqlite', 'postgres'] : ['sqlite']) {
    for (const level of ['0', '2000']) {
      const cells = tableRow(stdout, [dialect, level]);
      assert.equal(cells?.length, 3, stdout);
      assert.ok(
        cells.every((cell) => cell > 0),
        stdout,
      );
    }
  }
});

test('the benchmark scripts refuse a numeric option that is not a positive integer, naming it', async () => {
  const refusal = async (script: string, args: string[]) => {
    const run = promisify(execFile)(process.execPath, [script, ...args], { timeout: 60_000 });
    const error = await run.then(
      () => assert.fail(`${path.basename(script)} ${args.join(' ')} was accepted`),
      (e: { code?: number; stderr?: string }) => e,
    );
    assert.notEqual(error.code, 0);
    return error.stderr ?? '';
  };
  assert.match(await refusal(RUN, ['--duration', '0']), /--duration must be a positive integer/);
  assert.match(await refusal(RUN, ['--events', '1.5']), /--events must be a positive integer/);
  assert.match(await refusal(SETTLED_RESERVATIONS, ['--checks', 'x']), /--checks must be a positive integer/);
});
