/**
 * The budget check with the rate limit in Redis and without (shared-state.ts) on its own, at a
 * chosen number of requests, without the rest of `npm run bench`:
 *
 *   npm run build && node dist/bench/authorize-redis.js [--engine sqlite|postgres|both] [--events 10000] [--samples 2000]
 */
import { parseArgs } from 'node:util';
import { Client, createTenants } from './client.ts';
import type { Tenancy } from './data.ts';
import { ingestOverHttp } from './ingest.ts';
import { probeFor } from './latency.ts';
import { createDatabase, enginesOption, positiveIntegerOption, startServer } from './server.ts';
import { measureAuthorizeWithRedis } from './shared-state.ts';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'both' },
    events: { type: 'string', default: '10000' },
    samples: { type: 'string', default: '2000' },
  },
});
const events = positiveIntegerOption('events', values.events);
const samples = positiveIntegerOption('samples', values.samples);
const tenancy: Tenancy = { orgs: 5, keysPerOrg: 4 };

for (const dialect of enginesOption(values.engine)) {
  const database = await createDatabase(dialect);
  try {
    const server = await startServer(database);
    const admin = new Client(server.url, server.adminKey!, 4);
    const tenants = await createTenants(admin, tenancy);
    admin.close();
    const stream = { count: events, tenancy, keyIds: tenants.keyIds, end: Date.now() - 60_000, withCost: true };
    await ingestOverHttp(server.url, server.adminKey!, { ...stream, idPrefix: 'e', seed: 7 }, 2);
    await server.stop();
    const probe = probeFor(tenants.probeKeyId, Date.now());
    const figures = await measureAuthorizeWithRedis(database, tenants.probeSecret, probe, samples);
    process.stdout.write(`${JSON.stringify({ engine: dialect, events, ...figures })}\n`);
  } finally {
    await database.drop();
  }
}
