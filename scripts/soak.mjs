#!/usr/bin/env node
// The long variant of the reliability tests: many more SIGKILLs, replica rounds and fuzz
// cases than the test scripts run. Each figure can be overridden from the environment.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const RUN_TESTS = path.join(import.meta.dirname, 'run-tests.mjs');

const env = {
  CRASH_KILLS: '100',
  REPLICA_ROUNDS: '400',
  FUZZ_RUNS: '400',
  STORM_MS: '120000',
  ...process.env,
};
const LONG = ['--concurrency', '1', '--timeout', '3600000'];
console.log(
  `soak: ${env.CRASH_KILLS} kills per engine, ${env.REPLICA_ROUNDS} replica rounds, FUZZ_RUNS=${env.FUZZ_RUNS}, ` +
    `a ${Number(env.STORM_MS) / 1000} s storm of ended PostgreSQL sessions`,
);
const files = ['crash-safety', 'connection-storm', 'replicas', 'fuzz', 'resource-limits', 'rate-limit', 'secrets'];
const result = spawnSync(process.execPath, [RUN_TESTS, '--all', ...LONG, ...files], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
