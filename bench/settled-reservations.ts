/**
 * The budget check (authorizeSpend, in process) while an organization has many settled
 * reservations still within their expiry: every request a gateway reports within the TTL
 * leaves one, and they are kept until an hour after they expire. The baseline is the same
 * check in the same run with none; the ratio shows whether the check's cost depends on them.
 * Each level times `--checks` checks on a fresh database of each engine; the open reservations
 * those checks make are deleted before the next level, so that only the settled ones grow.
 *
 *   npm run build && node dist/bench/settled-reservations.js
 *     [--engine sqlite|postgres|both] [--settled 0,30000,100000] [--checks 300]
 */
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { authorizeSpend } from '../src/modules/limits/authorize.service.ts';
import { createOrganization } from '../src/modules/orgs/orgs.service.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { openStorage, type Storage } from '../src/storage/storage.ts';
import { percentiles } from './latency.ts';
import { createDatabase, enginesOption, positiveIntegerOption } from './server.ts';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'both' },
    settled: { type: 'string', default: '0,30000,100000' },
    checks: { type: 'string', default: '300' },
  },
});
const engines = enginesOption(values.engine);
const levels = values.settled.split(',').map(Number);
if (!levels.every((n) => Number.isInteger(n) && n >= 0) || levels[0] !== 0) {
  throw new Error('--settled: non-negative integers from 0 (the baseline) up, e.g. 0,30000,100000');
}
const checks = positiveIntegerOption('checks', values.checks);

const TTL_SECONDS = 300;
const ORG = 'org_settled_bench';

/** Adds settled reservations until there are `count`, each expiring between half a TTL and a TTL from `now`. */
async function settleUpTo(storage: Storage, from: number, count: number, now: number): Promise<void> {
  for (let at = from; at < count; at += 1000) {
    const rows = Array.from({ length: Math.min(1000, count - at) }, (_, i) => ({
      organization_id: ORG,
      id: `rsv_settled_${at + i}`,
      api_key_id: null,
      amount_nano: 1_000_000n,
      created_at: now - 2_000,
      expires_at: now + TTL_SECONDS * 1000 - ((at + i) % (TTL_SECONDS * 500)),
      settled_at: now - 1_000,
    }));
    await storage.db.insertInto('reservations').values(rows).execute();
  }
  if (storage.engine === 'postgres') await sql`analyze reservations`.execute(storage.db);
}

async function timeChecks(storage: Storage): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < checks; i++) {
    const started = performance.now();
    await authorizeSpend(storage, { organizationId: ORG, apiKeyId: null, estimatedNano: 1n }, Date.now(), TTL_SECONDS);
    samples.push(performance.now() - started);
  }
  await storage.db.deleteFrom('reservations').where('settled_at', 'is', null).execute();
  return samples;
}

console.log('| engine | settled reservations | p50 ms | p99 ms | p50 / p50 with none |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const dialect of engines) {
  const database = await createDatabase(dialect);
  const storage = await openStorage(database.config);
  try {
    await migrateToLatest(storage);
    const now = Date.now();
    await createOrganization(storage.db, { id: ORG, name: 'Settled reservations' }, now);
    let settled = 0;
    let baseline = 0;
    for (const level of levels) {
      await settleUpTo(storage, settled, level, now);
      settled = level;
      await timeChecks(storage); // warm-up: caches, plans, connections
      const { p50, p99 } = percentiles(await timeChecks(storage));
      if (level === 0) baseline = p50;
      const ratio = Math.round((p50 / baseline) * 100) / 100;
      console.log(`| ${dialect} | ${level} | ${p50} | ${p99} | ${ratio} |`);
    }
  } finally {
    await storage.close();
    await database.drop();
  }
}
