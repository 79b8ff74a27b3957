#!/usr/bin/env node
// Builds the TypeScript (`tsc -b`, which does nothing when dist/ is current), then runs the
// compiled tests with Node's test runner: every *.test.ts under src/ and test/ but test/e2e/;
// with `--e2e` those under test/e2e/ (the process-level suites), with `--all` both. Further arguments keep only the
// files whose path contains one of them: `node scripts/run-tests.mjs ingestion limits`.
// `--concurrency N` and `--timeout MS` change how many files run at once and when a hung test
// is stopped (scripts/soak.mjs runs long).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.join(import.meta.dirname, '..');
const { values, positionals: filter } = parseArgs({
  allowPositionals: true,
  options: {
    e2e: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '2' },
    // Node's runner applies the timeout to each file as well as to each test: it is there to
    // stop a hung test, not to fail a slow machine.
    timeout: { type: 'string', default: '240000' },
  },
});

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const build = spawnSync(process.execPath, [tsc, '-b'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const isE2e = (file) => file.startsWith(path.join('test', 'e2e') + path.sep);
const files = ['src', 'test']
  .flatMap((dir) => fs.readdirSync(path.join(root, dir), { recursive: true }).map((f) => path.join(dir, String(f))))
  .filter((f) => f.endsWith('.test.ts') && (values.all || isE2e(f) === values.e2e))
  .filter((f) => filter.length === 0 || filter.some((part) => f.includes(part)))
  .sort()
  // Compiled from the sources listed, so that a test deleted from the sources never runs from dist/.
  .map((f) => path.join(root, 'dist', f.replace(/\.ts$/, '.js')));

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  [
    '--enable-source-maps',
    '--test',
    `--test-concurrency=${values.concurrency}`,
    `--test-timeout=${values.timeout}`,
    ...files,
  ],
  { stdio: 'inherit', cwd: root },
);
process.exit(result.status ?? 1);
