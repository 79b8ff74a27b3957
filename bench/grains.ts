/**
 * Ingestion with the breakdown's grains filled against ingestion with them nearly empty, in the
 * same run: the same events (same seed, count, costs and times) sent once with their end users,
 * tags and cache and reasoning parts and once without them, each into a fresh database behind a
 * fresh server process. Every rollup is written either way; without the fields, the end-user
 * rollups hold one row per model and bucket (the usage without an end user) and the tag rollups
 * none, so the difference is what the rows of end users and tags cost. The runs alternate
 * (without, with, with, without) so that drifting load on the machine weighs on both alike.
 */
import fs from 'node:fs';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { EngineName } from '../src/storage/storage.ts';
import { Client, createTenants } from './client.ts';
import type { EventStreamOptions, Tenancy } from './data.ts';
import { type IngestFigures, ingestOverHttp } from './ingest.ts';
import { type BenchDatabase, createDatabase, startServer } from './server.ts';

/** The rollup tables whose rows the fields add: per end user and per tag, each grain. */
const FIELD_ROLLUPS = [
  'rollup_model_user_hour',
  'rollup_model_user_day',
  'rollup_model_user_month',
  'rollup_model_tag_hour',
  'rollup_model_tag_day',
  'rollup_model_tag_month',
] as const;

export interface GrainRun extends IngestFigures {
  fields: boolean;
  /** CPU time of the server process (all its threads) per event, µs; on PostgreSQL the backends' time is not in it. */
  serverCpuMicrosPerEvent: number;
  /** Rows in the end-user and tag rollups after the run. */
  fieldRollupRows: number;
}

export interface GrainComparison {
  runs: GrainRun[];
  /** Events over seconds of the two runs of each kind. */
  withFields: number;
  withoutFields: number;
  /** With / without (target ≥ 0.8). */
  ratio: number;
}

const TICKS_PER_SECOND = 100;

/** User + system CPU time of a process and all its threads so far, in ms (Linux). */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

async function fieldRollupRows(database: BenchDatabase): Promise<number> {
  const countAll = FIELD_ROLLUPS.map((table) => `(select count(*) from ${table})`).join(' + ');
  if (database.config.kind === 'sqlite') {
    const db = new SQLite(database.config.path, { readonly: true });
    try {
      return Number((db.prepare(`select ${countAll} as n`).get() as { n: number }).n);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({
    connectionString: database.env.DATABASE_URL,
    options: `-c search_path=${database.config.schema}`,
  });
  await client.connect();
  try {
    return Number((await client.query(`select ${countAll} as n`)).rows[0].n);
  } finally {
    await client.end();
  }
}

async function once(
  dialect: EngineName,
  fields: boolean,
  count: number,
  clients: number,
  tenancy: Tenancy,
  end: number,
): Promise<GrainRun> {
  const database = await createDatabase(dialect);
  try {
    const server = await startServer(database);
    try {
      const adminKey = server.adminKey;
      if (!adminKey) throw new Error('the server printed no first admin key');
      const admin = new Client(server.url, adminKey, 6);
      const { keyIds } = await createTenants(admin, tenancy);
      admin.close();
      const stream: EventStreamOptions = {
        count,
        tenancy,
        keyIds,
        end,
        withCost: true,
        idPrefix: 'g',
        seed: 17,
        fields,
      };
      const cpuBefore = cpuMs(server.pid);
      const figures = await ingestOverHttp(server.url, adminKey, stream, clients);
      const cpu = cpuMs(server.pid) - cpuBefore;
      return {
        fields,
        ...figures,
        serverCpuMicrosPerEvent: Math.round((cpu * 1000) / count),
        fieldRollupRows: await fieldRollupRows(database),
      };
    } finally {
      await server.stop();
    }
  } finally {
    await database.drop();
  }
}

export async function compareGrainIngestion(
  dialect: EngineName,
  count: number,
  clients: number,
  tenancy: Tenancy,
  log: (line: string) => void,
): Promise<GrainComparison> {
  const end = Date.now() - 60_000;
  const runs: GrainRun[] = [];
  for (const fields of [false, true, true, false]) {
    const run = await once(dialect, fields, count, clients, tenancy, end);
    log(`${dialect}: ${run.eventsPerSecond} events/s ${fields ? 'with' : 'without'} end users, tags and parts`);
    runs.push(run);
  }
  const rate = (fields: boolean) => {
    const of = runs.filter((run) => run.fields === fields);
    const events = of.reduce((sum, run) => sum + run.events, 0);
    const seconds = of.reduce((sum, run) => sum + run.seconds, 0);
    return Math.round(events / seconds);
  };
  const withFields = rate(true);
  const withoutFields = rate(false);
  return { runs, withFields, withoutFields, ratio: Math.round((withFields / withoutFields) * 100) / 100 };
}
