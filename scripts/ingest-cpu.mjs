#!/usr/bin/env node
// Compares checkouts (built, with node_modules) by the CPU time their server process spends per
// event ingested through POST /v1/usage/events (all its threads: utime + stime from /proc, so
// Linux only), which depends far less on other load on the machine than events per second.
// Runs alternate between the checkouts; the median of the rounds is printed. PostgreSQL runs
// use a schema of their own in BENCH_DATABASE_URL's database, dropped afterwards.
//   node scripts/ingest-cpu.mjs sqlite|postgres EVENTS ROUNDS DIR...
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

const [engine, eventsArg, roundsArg, ...dirs] = process.argv.slice(2);
const EVENTS = Number(eventsArg),
  ROUNDS = Number(roundsArg);
const TICK = 100; // clock ticks per second
const cpuMs = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICK;
};
// The events: 20 organizations of 5 keys each, 6 models, costs stated, batches of 1000 sent by 4 clients.
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4', 'o3', 'gemini-2.5-pro', 'mistral-small'];
async function once(dir) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cpe-'));
  let url = `sqlite:${path.join(tmp, 'x.sqlite')}`,
    schema;
  const port = 18500 + Math.floor(Math.random() * 400);
  const env = { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0' };
  if (engine === 'postgres') {
    schema = `cpe_${Date.now()}`;
    url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    env.DATABASE_SCHEMA = schema;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`create schema ${schema}`);
    await c.end();
  }
  env.DATABASE_URL = url;
  const child = spawn(process.execPath, [path.join(dir, 'bin/freddy-analytics.js'), 'serve'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  const base = await new Promise((resolve, reject) => {
    child.stderr.on('data', (c) => {
      err += c;
    });
    child.stdout.resume();
    child.on('exit', (code) => reject(new Error(`exit ${code} ${err}`)));
    const poll = async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (r.ok) return resolve(`http://127.0.0.1:${port}`);
      } catch {}
      setTimeout(poll, 50);
    };
    poll();
  });
  await new Promise((r) => setTimeout(r, 300));
  const admin = /\n\s+(fak_[A-Za-z0-9]+)\n/.exec(err)[1];
  const call = async (method, p, body) => {
    const r = await fetch(base + p, {
      method,
      headers: { 'x-api-key': admin, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const j = await r.json();
    if (!r.ok) throw new Error(JSON.stringify(j));
    return j;
  };
  const orgs = [];
  for (let o = 0; o < 20; o++) {
    const org = await call('POST', '/v1/organizations', { name: `o${o}` });
    const keys = [];
    for (let k = 0; k < 5; k++)
      keys.push((await call('POST', `/v1/organizations/${org.id}/api-keys`, { key_name: `k${k}` })).id);
    orgs.push({ id: org.id, keys });
  }
  let n = 0;
  const batches = [];
  for (let b = 0; b < EVENTS / 1000; b++) {
    const org = orgs[b % orgs.length];
    const events = [];
    for (let i = 0; i < 1000; i++, n++)
      events.push({
        id: `e${n}`,
        organization_id: org.id,
        api_key_id: i % 5 === 0 ? null : org.keys[i % 5],
        model: MODELS[n % MODELS.length],
        neurons: 100 + (n % 900),
        synapses: 10 + (n % 90),
        cost: ((n % 997) / 10000).toFixed(4),
      });
    batches.push(JSON.stringify({ events }));
  }
  const before = cpuMs(child.pid),
    t0 = performance.now();
  let next = 0;
  await Promise.all(
    [0, 1, 2, 3].map(async () => {
      while (next < batches.length) {
        const body = batches[next++];
        const r = await fetch(`${base}/v1/usage/events`, {
          method: 'POST',
          headers: { 'x-api-key': admin, 'content-type': 'application/json' },
          body,
        });
        if (!r.ok) throw new Error(await r.text());
        await r.arrayBuffer();
      }
    }),
  );
  const cpu = cpuMs(child.pid) - before,
    wall = performance.now() - t0;
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  fs.rmSync(tmp, { recursive: true, force: true });
  if (schema) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`drop schema ${schema} cascade`);
    await c.end();
  }
  return { usPerEvent: (cpu * 1000) / EVENTS, rate: EVENTS / (wall / 1000) };
}
const results = Object.fromEntries(dirs.map((d) => [d, []]));
for (let r = 0; r < ROUNDS; r++)
  for (const d of dirs) {
    const x = await once(d);
    results[d].push(x);
    console.log(
      `${path.basename(d)} ${engine} round ${r + 1}: ${x.usPerEvent.toFixed(1)} µs CPU/event, ${x.rate.toFixed(0)} events/s, load ${os.loadavg()[0].toFixed(1)}`,
    );
  }
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};
for (const d of dirs)
  console.log(
    `${d}: median ${median(results[d].map((x) => x.usPerEvent)).toFixed(1)} µs of server CPU per event (${engine}, ${EVENTS} events, ${ROUNDS} rounds)`,
  );
