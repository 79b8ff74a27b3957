#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with Node's test runner (through tsx's loader).
// Node 20 cannot expand globs itself, so the files are collected here.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// tsx's loader, registered after the dependencies are loaded without it (see the file).
const REGISTER_TSX = path.join(import.meta.dirname, '..', 'bin', 'register-tsx.mjs');

const roots = ['src', 'test'];
const filter = process.argv.slice(2);
const files = roots
  .flatMap((root) => fs.readdirSync(root, { recursive: true }).map((f) => path.join(root, String(f))))
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => filter.length === 0 || filter.some((part) => f.includes(part)))
  .sort();

// Node's runner applies the timeout to each file as well as to each test. The slowest file
// (test/cli-tools.test.ts, which starts the CLI about twenty times on each engine) takes about
// 80 s on an idle 2-core machine and went past 120 s on a busy one; the limit is there to stop
// a hung test, not to fail a slow machine.
const TIMEOUT_MS = 240_000;

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', REGISTER_TSX, '--test', '--test-concurrency=2', `--test-timeout=${TIMEOUT_MS}`, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
