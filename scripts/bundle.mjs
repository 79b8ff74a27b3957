#!/usr/bin/env node
// Bundles the compiled command line (dist/src/, which `tsc -b` writes) into dist/bundle/: a few
// files instead of several hundred modules, so that a process starts in half the time. The
// SQLite writer thread is an entry of its own, beside the command line, where the code that
// starts it looks for it.
//
// Left outside, loaded from node_modules as usual: better-sqlite3 (a native addon), pg-native
// (optional, never installed), @fastify/swagger-ui (it serves files from its own folder), and
// the NATS and Redis clients, which a process loads only when configured to use them (and
// which, bundled, would be imported with other semantics than Node's).
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.join(import.meta.dirname, '..');
const outdir = path.join(root, 'dist', 'bundle');
fs.rmSync(outdir, { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: {
    'freddy-analytics': 'dist/src/cli/main.js',
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
  external: ['better-sqlite3', 'pg-native', '@fastify/swagger-ui', '@nats-io/*', '@redis/client'],
  // Bundled CommonJS packages call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  minify: true,
  keepNames: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
});
