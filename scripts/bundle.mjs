#!/usr/bin/env node
// Bundles the compiled command line (dist/src/, which `tsc -b` writes) into dist/bundle/: a few
// files instead of several hundred modules, so that a process starts in half the time. The
// SQLite writer thread is an entry of its own, beside the command line, where the code that
// starts it looks for it.
//
// With `--tests`, the compiled test files instead, into dist/test-bundle/ (one entry each,
// flattened: dist/test/fuzz.test.js becomes test-fuzz.test.js), for scripts/run-tests.mjs: each
// test process loads them, and loading several hundred modules took about three times the CPU
// of loading the bundle.
//
// Left outside, loaded from node_modules as usual: better-sqlite3 (a native addon), pg-native
// (optional, never installed), @fastify/swagger-ui (it serves files from its own folder), and
// the NATS and Redis clients, which a process loads only when configured to use them (and
// which, bundled, would be imported with other semantics than Node's).
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.join(import.meta.dirname, '..');
const tests = process.argv.includes('--tests');
const outdir = path.join(root, 'dist', tests ? 'test-bundle' : 'bundle');
fs.rmSync(outdir, { recursive: true, force: true });

/** Test files (compiled), as entry name → file: test/e2e/cli.test.js → test-e2e-cli.test. */
function testEntries() {
  return Object.fromEntries(
    ['src', 'test']
      .flatMap((dir) => fs.readdirSync(path.join(root, 'dist', dir), { recursive: true }).map((f) => path.join(dir, f)))
      .filter((f) => f.endsWith('.test.js'))
      .map((f) => [f.slice(0, -'.js'.length).split(path.sep).join('-'), path.join('dist', f)]),
  );
}

await build({
  absWorkingDir: root,
  entryPoints: {
    ...(tests ? testEntries() : { 'freddy-analytics': 'dist/src/cli/main.js' }),
    'writer-thread': 'dist/src/storage/sqlite/writer-thread.js',
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Chunks beside the entries: `new URL('./writer-thread.js', import.meta.url)` in any of them
  // finds the writer thread's entry.
  chunkNames: '[name]-[hash]',
  external: [
    'better-sqlite3',
    'pg-native',
    '@fastify/swagger-ui',
    '@nats-io/*',
    '@redis/client',
    // Test tools that read files of their own beside their modules.
    ...(tests ? ['@redocly/*', '@seriousme/*', 'playwright-core'] : []),
  ],
  // Bundled CommonJS packages call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  // A failing test's stack names the TypeScript lines (through the compiled files' own maps).
  minify: !tests,
  keepNames: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
});
