#!/usr/bin/env node
// Builds the TypeScript (`tsc -b`, which does nothing when dist/ is current), the bundle
// (scripts/bundle.mjs) and the tests' own bundle (`--tests`), then runs the bundled tests with
// Node's test runner: every *.test.ts under src/ and test/ but test/e2e/;
// with `--e2e` those under test/e2e/ (the process-level suites), with `--all` both. Further arguments keep only the
// files whose path contains one of them: `node scripts/run-tests.mjs ingestion limits`.
// `--concurrency N` and `--timeout MS` change how many files run at once and when a hung test
// is stopped (scripts/soak.mjs runs long).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ENGINES = ['sqlite', 'postgres'];
// A misspelt engine would otherwise select no engine at all and pass with nothing tested.
const requested = (process.env.FREDDY_TEST_DIALECTS ?? ENGINES.join(',')).split(',').map((name) => name.trim());
const unknown = requested.filter((name) => !ENGINES.includes(name));
if (unknown.length > 0) {
  console.error(`FREDDY_TEST_DIALECTS: unknown engine ${JSON.stringify(unknown.join(','))}; use ${ENGINES.join(', ')}`);
  process.exit(1);
}

const root = path.join(import.meta.dirname, '..');
const { values, positionals: filter } = parseArgs({
  allowPositionals: true,
  options: {
    e2e: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
    // In-process files wait on the databases much of the time: three at once keep two cores
    // busy. Process-level files start servers of their own: two at once.
    concurrency: { type: 'string' },
    // Node's runner applies the timeout to each file as well as to each test: it is there to
    // stop a hung test, not to fail a slow machine. Default: 420 s in-process, 480 s for the
    // process-level files, whose servers and benchmarks run for minutes on a busy machine.
    timeout: { type: 'string' },
  },
});

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
// The bundle is what `bin/freddy-analytics.js` runs: the process-level tests start it.
const bundle = path.join(root, 'scripts', 'bundle.mjs');
for (const step of [[tsc, '-b'], [bundle], [bundle, '--tests']]) {
  const build = spawnSync(process.execPath, step, { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const concurrency = values.concurrency ?? (values.e2e || values.all ? '2' : '3');
/** The files that take longest, longest first, so that none of them starts late and runs alone at the end. */
const LONGEST = [
  'fuzz',
  'seeds',
  'breakdown-property',
  'timeouts',
  'pricing-property',
  'connection-loss',
  'access-matrix',
];
const longFirst = (file) => {
  const i = LONGEST.findIndex((name) => path.basename(file) === `${name}.test.ts`);
  return i < 0 ? LONGEST.length : i;
};
const isE2e = (file) => file.startsWith(path.join('test', 'e2e') + path.sep);
const files = ['src', 'test']
  .flatMap((dir) => fs.readdirSync(path.join(root, dir), { recursive: true }).map((f) => path.join(dir, String(f))))
  .filter((f) => f.endsWith('.test.ts') && (values.all || isE2e(f) === values.e2e))
  .filter((f) => filter.length === 0 || filter.some((part) => f.includes(part)))
  .sort()
  // The longest files start first, so that none of them is left to run alone at the end.
  .sort((a, b) => longFirst(a) - longFirst(b))
  // Bundled from the sources listed (see scripts/bundle.mjs for the names), so that a test
  // deleted from the sources never runs from dist/.
  .map((f) => path.join(root, 'dist', 'test-bundle', `${f.replace(/\.ts$/, '').split(path.sep).join('-')}.js`));

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

/**
 * In-process files run several to a process: each process loads the bundle and warms up its
 * JIT once, which cost about a quarter of a second of CPU per file, a sixth of the suite's.
 * The longest files keep a process of their own, started first; the rest go, in order, into
 * groups of GROUP_SIZE. Process-level files keep one process each: their subject is the
 * processes they start, and they start many.
 */
const GROUP_SIZE = 6;
function grouped(list) {
  if (values.e2e || values.all || list.length <= 1) return list;
  const alone = list.filter((file) => LONGEST.some((name) => path.basename(file) === `test-${name}.test.js`));
  const rest = list.filter((file) => !alone.includes(file));
  const groups = [];
  for (let i = 0; i < rest.length; i += GROUP_SIZE) {
    const members = rest.slice(i, i + GROUP_SIZE);
    const group = path.join(root, 'dist', 'test-bundle', `group-${String(groups.length + 1).padStart(2, '0')}.test.js`);
    fs.writeFileSync(group, members.map((file) => `import './${path.basename(file)}';\n`).join(''));
    groups.push(group);
  }
  return [...alone, ...groups];
}
// Node's own choice of reporter, plus one that counts the suites of each engine.
const engineCounts = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-engines-')), 'counts.json');
const result = spawnSync(
  process.execPath,
  [
    '--enable-source-maps',
    '--test',
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${values.timeout ?? (values.e2e || values.all ? '480000' : '420000')}`,
    `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`,
    '--test-reporter-destination=stdout',
    `--test-reporter=${path.join(root, 'scripts', 'engines-reporter.mjs')}`,
    `--test-reporter-destination=${engineCounts}`,
    ...grouped(files),
  ],
  { stdio: 'inherit', cwd: root },
);
try {
  const { counts, failures } = JSON.parse(fs.readFileSync(engineCounts, 'utf8'));
  // The runner's own report of a failure can be thousands of lines above its end: repeat
  // each failure's cause here, where a CI log's tail shows it.
  for (const failure of failures) {
    const where = failure.file ? ` (${path.relative(root, failure.file)}:${failure.line})` : '';
    console.error(
      `failed: ${failure.name}${where} [${failure.failureType}]\n  ${failure.error.replaceAll('\n', '\n  ')}`,
    );
  }
  const line = ENGINES.map((e) => `${e} ${counts[e]?.ran ?? 0} ran, ${counts[e]?.skipped ?? 0} skipped`).join('; ');
  console.error(`suites per engine (FREDDY_TEST_DIALECTS=${requested.join(',')}): ${line}`);
} catch {
  console.error('suites per engine: no count was written');
} finally {
  fs.rmSync(path.dirname(engineCounts), { recursive: true, force: true });
}
process.exit(result.status ?? 1);
