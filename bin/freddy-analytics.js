#!/usr/bin/env node
// The command line, compiled to dist/ and bundled into dist/bundle/ by `npm run build` (which
// `npm ci` runs).
import fs from 'node:fs';

const main = new URL('../dist/bundle/freddy-analytics.js', import.meta.url);
if (!fs.existsSync(main)) {
  process.stderr.write('freddy-analytics: dist/ is missing; build it with `npm run build` (npm ci does it too)\n');
  process.exit(1);
}
await import(main.href);
