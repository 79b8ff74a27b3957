/**
 * The breakdown's three questions alone, at two sizes, without ingesting through the API: the
 * benchmark's tenants are created through a server, the benchmark's events (same generator,
 * seed and tenancy as `npm run bench`) are written by the bulk path, every rollup of ROLLUPS is
 * filled from them with one INSERT … SELECT per rollup and month (the rebuild's grouping), and
 * a server with the read memo off answers the questions one at a time. Minutes where the full
 * benchmark takes an hour, so that checkouts can be compared side by side on one machine:
 *
 *   node dist/bench/breakdown-latency.js --engine sqlite --events 1000000 [--samples 300]
 */
import { parseArgs } from 'node:util';
import { type Kysely, sql } from 'kysely';
import { openStorage } from '../src/storage/storage.ts';
import { addMonths, type YearMonth, yearMonthOf } from '../src/time/calendar.ts';
import { countsSql, keyColumns, ROLLUPS, rollupSourceSql } from '../src/usage/rollups.ts';
import { Client, createTenants } from './client.ts';
import { SPAN_MS, type Tenancy } from './data.ts';
import { ingestBaseline } from './ingest.ts';
import { BREAKDOWN_ROUTES, measureRoutes, probeFor } from './latency.ts';
import { type BenchDatabase, createDatabase, enginesOption, positiveIntegerOption, startServer } from './server.ts';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'both' },
    events: { type: 'string', default: '1000000' },
    small: { type: 'string', default: '10000' },
    samples: { type: 'string', default: '300' },
  },
});
const tenancy: Tenancy = { orgs: 300, keysPerOrg: 10 };
const log = (line: string) => process.stderr.write(`[breakdown] ${line}\n`);

/** Every rollup of every month of the span, grouped from the raw events in the database. */
async function fillRollups(database: BenchDatabase, end: number): Promise<void> {
  const storage = await openStorage(database.config);
  try {
    await storage.withoutTimeout(async (db) => {
      // biome-ignore lint/suspicious/noExplicitAny: tables chosen at run time from the descriptors
      const untyped = db as unknown as Kysely<any>;
      const last = yearMonthOf(end);
      for (let month: YearMonth = yearMonthOf(end - SPAN_MS); ; month = addMonths(month, 1)) {
        const start = Date.UTC(month.year, month.month - 1, 1);
        const next = addMonths(month, 1);
        const stop = Date.UTC(next.year, next.month - 1, 1);
        for (const rollup of ROLLUPS) {
          const keys = ['organization_id', rollup.grain.keySql(month), ...rollup.dimensions.map((d) => d.sql)];
          const only = countsSql(rollup);
          await sql
            .raw(
              `insert into ${rollup.table} (${keyColumns(rollup).join(', ')}, requests, neurons, synapses, cost_nano,
                 cached_neurons, cache_write_neurons, reasoning_synapses)
               select ${keys.join(', ')}, count(*), sum(neurons), sum(synapses), sum(cost_nano),
                 sum(cached_neurons), sum(cache_write_neurons), sum(reasoning_synapses)
               from ${rollupSourceSql(rollup, 'usage_events')}
               where occurred_at >= ${start} and occurred_at < ${stop}${only ? ` and ${only}` : ''}
               group by ${keys.map((_, i) => i + 1).join(', ')}`,
            )
            .execute(untyped);
        }
        if (month.year === last.year && month.month === last.month) break;
      }
    });
  } finally {
    await storage.close();
  }
}

async function measure(dialect: 'sqlite' | 'postgres', count: number, samples: number) {
  const database = await createDatabase(dialect);
  try {
    const first = await startServer(database);
    const admin = new Client(first.url, first.adminKey!, 6);
    const tenants = await createTenants(admin, tenancy);
    admin.close();
    await first.stop();
    const end = Date.now() - 60_000;
    log(`${dialect}: ${count} events by the bulk path`);
    const stream = { count, tenancy, keyIds: tenants.keyIds, end, withCost: true, idPrefix: 'e', seed: 7 };
    await ingestBaseline(database, stream, 4);
    log(`${dialect}: filling ${ROLLUPS.length} rollups`);
    await fillRollups(database, end);
    await database.vacuum();
    const server = await startServer(database, [], { READ_MEMO_ENTRIES: '0' });
    try {
      const probe = probeFor(tenants.probeKeyId, Date.now());
      return await measureRoutes(server.url, tenants.probeSecret, probe, samples, BREAKDOWN_ROUTES);
    } finally {
      await server.stop();
    }
  } finally {
    await database.drop();
  }
}

const events = positiveIntegerOption('events', values.events);
const small = positiveIntegerOption('small', values.small);
const samples = positiveIntegerOption('samples', values.samples);
for (const dialect of enginesOption(values.engine)) {
  const smallFigures = await measure(dialect, small, samples);
  const bigFigures = await measure(dialect, events, samples);
  for (const route of BREAKDOWN_ROUTES) {
    const [s, b] = [smallFigures[route], bigFigures[route]];
    console.log(
      `${dialect} | ${route} | ${small}: p50 ${s.p50} p99 ${s.p99} ms | ${events}: p50 ${b.p50} p99 ${b.p99} ms | ratio ${(b.p50 / s.p50).toFixed(2)}`,
    );
  }
}
