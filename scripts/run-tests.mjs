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

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', REGISTER_TSX, '--test', '--test-concurrency=2', '--test-timeout=120000', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
