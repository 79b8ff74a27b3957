#!/usr/bin/env node
// The long variant of the reliability tests: many more SIGKILLs, replica rounds and fuzz
// cases than `npm test` runs. Each figure can be overridden from the environment.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

// tsx's loader, registered after the dependencies are loaded without it (see the file).
const REGISTER_TSX = path.join(import.meta.dirname, '..', 'bin', 'register-tsx.mjs');

const env = {
  CRASH_KILLS: '100',
  CRASH_BUDGET_MS: '1200000',
  REPLICA_ROUNDS: '400',
  FUZZ_RUNS: '400',
  STORM_MS: '120000',
  ...process.env,
};
const files = [
  'test/crash-safety.test.ts',
  'test/connection-storm.test.ts',
  'test/replicas.test.ts',
  'test/fuzz.test.ts',
  'test/resource-limits.test.ts',
  'test/rate-limit.test.ts',
  'test/secrets.test.ts',
];
console.log(
  `soak: ${env.CRASH_KILLS} kills per engine, ${env.REPLICA_ROUNDS} replica rounds, FUZZ_RUNS=${env.FUZZ_RUNS}, ` +
    `a ${Number(env.STORM_MS) / 1000} s storm of ended PostgreSQL sessions`,
);
const result = spawnSync(
  process.execPath,
  ['--import', REGISTER_TSX, '--test', '--test-concurrency=1', '--test-timeout=3600000', ...files],
  { stdio: 'inherit', env },
);
process.exit(result.status ?? 1);
