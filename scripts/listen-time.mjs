#!/usr/bin/env node
// Time from spawning `node bin/freddy-analytics.js serve` to its "Server listening" log line, on
// a new SQLite file and again on the same, migrated file; the median of 10 runs per checkout,
// alternating between the checkouts given (each built, with node_modules). Also the CPU time
// the process had used by then (Linux: /proc), which a busy machine changes less than the time.
//   node scripts/listen-time.mjs DIR...
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const dirs = process.argv.slice(2);
const runs = 10;
const times = Object.fromEntries(dirs.map((d) => [d, { first: [], warm: [], cpu: [] }]));
const TICK_MS = 10; // USER_HZ is 100 on Linux
/** User and system CPU time of a process so far, in ms; NaN where /proc is not there. */
function cpuMs(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return Number.NaN;
  }
}
function once(dir, db) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [path.join(dir, 'bin/freddy-analytics.js'), 'serve'], {
      cwd: dir,
      env: { ...process.env, PORT: '0', DATABASE_URL: `sqlite:${db}`, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let done = false;
    child.stdout.on('data', (c) => {
      if (!done && String(c).includes('Server listening')) {
        done = true;
        const ms = performance.now() - t0;
        times[dir].cpu.push(cpuMs(child.pid));
        child.kill('SIGTERM');
        child.on('exit', () => resolve(ms));
      }
    });
    child.on('exit', (code) => {
      if (!done) reject(new Error(`exit ${code}`));
    });
  });
}
for (let i = 0; i < runs; i++) {
  for (const dir of dirs) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lt-'));
    const db = path.join(tmp, 'x.sqlite');
    times[dir].first.push(await once(dir, db));
    times[dir].warm.push(await once(dir, db));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};
for (const dir of dirs)
  console.log(
    `${dir}: new database ${median(times[dir].first).toFixed(0)} ms, migrated database ${median(times[dir].warm).toFixed(0)} ms (median of ${runs}); CPU until listening ${median(times[dir].cpu).toFixed(0)} ms`,
  );
