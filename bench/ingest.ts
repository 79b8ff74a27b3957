/**
 * Ingestion load: batches of 1000 through POST /v1/usage/events from several concurrent
 * clients, and the baseline: the same events (end users, tags, cache and reasoning parts
 * included) written straight into the same engine with its fastest bulk path, without rollups
 * or any checks.
 */
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { monthsFrom } from '../src/modules/retention/horizon.ts';
import { parseChf } from '../src/money/chf.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { WAL_CHECKPOINT_PAGES, WRITER_CACHE_KIB } from '../src/storage/sqlite/connection.ts';
import { openStorage } from '../src/storage/storage.ts';
import { canonicalTags } from '../src/usage/event.ts';
import { Client } from './client.ts';
import { type BenchEvent, type EventStreamOptions, eventBatches, SPAN_MS } from './data.ts';
import { type Percentiles, percentiles } from './latency.ts';
import type { BenchDatabase } from './server.ts';

export const BATCH = 1000;

export interface IngestFigures {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  accepted: number;
  duplicates: number;
}

/** A read made over and over while ingesting (see ingestOverHttp). */
export interface ReadProbe {
  secret: string;
  path: string;
}

/** How often the probe reads while ingesting. */
const READ_EVERY_MS = 10;

/**
 * Sends the stream through the API with `clients` concurrent connections. With `probe`, one more
 * client makes that read every 10 ms meanwhile, and its latency is returned: what a dashboard
 * or a gateway checking a summary sees while the service ingests at full speed.
 */
export async function ingestOverHttp(
  url: string,
  key: string,
  stream: EventStreamOptions,
  clients: number,
  probe?: ReadProbe,
): Promise<IngestFigures & { readsWhileIngesting?: Percentiles }> {
  const client = new Client(url, key, clients);
  const batches = eventBatches(stream, BATCH);
  let accepted = 0;
  let duplicates = 0;
  let ingesting = true;
  const started = performance.now();
  const worker = async () => {
    for (let next = batches.next(); !next.done; next = batches.next()) {
      const result = await client.expectOk<{ accepted: number; duplicates: number }>('POST', '/v1/usage/events', {
        events: next.value,
      });
      accepted += result.accepted;
      duplicates += result.duplicates;
    }
  };
  const reads = probe ? readRepeatedly(url, probe, () => ingesting) : undefined;
  await Promise.all(Array.from({ length: clients }, worker)).finally(() => {
    ingesting = false;
  });
  const ms = performance.now() - started;
  client.close();
  const readsWhileIngesting = reads ? percentiles(await reads) : undefined;
  return {
    ...figures(stream.count, ms, accepted, duplicates),
    ...(readsWhileIngesting ? { readsWhileIngesting } : {}),
  };
}

async function readRepeatedly(url: string, probe: ReadProbe, going: () => boolean): Promise<number[]> {
  const reader = new Client(url, probe.secret, 1);
  const samples: number[] = [];
  try {
    while (going()) {
      const started = performance.now();
      await reader.expectOk('GET', probe.path);
      samples.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, READ_EVERY_MS));
    }
  } finally {
    reader.close();
  }
  return samples;
}

function figures(events: number, ms: number, accepted: number, duplicates: number): IngestFigures {
  const seconds = ms / 1000;
  return { events, seconds: round(seconds, 2), eventsPerSecond: Math.round(events / seconds), accepted, duplicates };
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

interface RawRow {
  organization_id: string;
  id: string;
  api_key_id: string | null;
  model: string;
  neurons: number;
  synapses: number;
  cost_nano: bigint;
  occurred_at: number;
  cached_neurons: number;
  cache_write_neurons: number;
  reasoning_synapses: number;
  end_user: string | null;
  /** As the server stores them: JSON with the keys sorted, null without tags. */
  tags: string | null;
}

function toRow(event: BenchEvent): RawRow {
  return {
    organization_id: event.organization_id,
    id: event.id,
    api_key_id: event.api_key_id,
    model: event.model,
    neurons: event.neurons,
    synapses: event.synapses,
    cost_nano: parseChf(event.cost ?? '0') ?? 0n,
    occurred_at: Date.parse(event.timestamp),
    cached_neurons: event.cached_neurons ?? 0,
    cache_write_neurons: event.cache_write_neurons ?? 0,
    reasoning_synapses: event.reasoning_synapses ?? 0,
    end_user: event.end_user ?? null,
    tags: canonicalTags(event.tags ?? {}),
  };
}

/** The bulk-path baseline in a fresh database of the same engine and schema. */
export async function ingestBaseline(database: BenchDatabase, stream: EventStreamOptions, clients: number) {
  const storage = await openStorage(database.config);
  await migrateToLatest(storage);
  // The server makes a month's partition (PostgreSQL) when its first event comes; the bulk path
  // writes straight into the table, so every month of the two-year span gets one first, untimed.
  await storage.prepareEventMonths(monthsFrom(stream.end - SPAN_MS, 25));
  await storage.close();
  return database.dialect === 'sqlite'
    ? sqliteBulk(database.config.kind === 'sqlite' ? database.config.path : '', stream)
    : postgresBulk(database, stream, clients);
}

/** SQLite: one prepared INSERT run per row inside one transaction per batch (one writer, as SQLite allows). */
function sqliteBulk(file: string, stream: EventStreamOptions): IngestFigures {
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL'); // as durable as the server, and checkpointing as it does
  db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
  db.pragma(`cache_size = -${WRITER_CACHE_KIB}`); // the page cache of the server's writer
  const insert = db.prepare(
    `insert into usage_events (organization_id, id, api_key_id, model, neurons, synapses, cost_nano, cost_source, occurred_at, received_at,
       cached_neurons, cache_write_neurons, reasoning_synapses, end_user, tags)
     values (?, ?, ?, ?, ?, ?, ?, 'reported', ?, ?, ?, ?, ?, ?, ?) on conflict do nothing`,
  );
  let accepted = 0;
  const writeBatch = db.transaction((rows: RawRow[], now: number) => {
    for (const r of rows) {
      accepted += insert.run(
        r.organization_id,
        r.id,
        r.api_key_id,
        r.model,
        r.neurons,
        r.synapses,
        r.cost_nano,
        r.occurred_at,
        now,
        r.cached_neurons,
        r.cache_write_neurons,
        r.reasoning_synapses,
        r.end_user,
        r.tags,
      ).changes;
    }
  });
  const started = performance.now();
  for (const batch of eventBatches(stream, BATCH)) writeBatch(batch.map(toRow), Date.now());
  const ms = performance.now() - started;
  db.close();
  return figures(stream.count, ms, accepted, stream.count - accepted);
}

const byKey = (r: RawRow) => `${r.organization_id}/${r.id}`;

/** PostgreSQL: one INSERT … SELECT FROM unnest(arrays) per batch, from `clients` connections. */
async function postgresBulk(database: BenchDatabase, stream: EventStreamOptions, clients: number) {
  const schema = database.config.kind === 'postgres' ? database.config.schema : undefined;
  const pool = new pg.Pool({
    connectionString: database.env.DATABASE_URL,
    max: clients,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  const statement = `insert into usage_events (organization_id, id, api_key_id, model, neurons, synapses, cost_nano, cost_source, occurred_at, received_at,
      cached_neurons, cache_write_neurons, reasoning_synapses, end_user, tags)
    select o, i, k, m, n, s, c, 'reported', t, $9, cn, cw, rs, eu, tg
    from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[], $7::int8[], $8::int8[],
      $10::int8[], $11::int8[], $12::int8[], $13::text[], $14::text[]) as u(o, i, k, m, n, s, c, t, cn, cw, rs, eu, tg)
    on conflict do nothing`;
  const batches = eventBatches(stream, BATCH);
  let accepted = 0;
  const started = performance.now();
  const worker = async () => {
    for (let next = batches.next(); !next.done; next = batches.next()) {
      // Sorted by key, as the server does, so that concurrent batches sharing a retried id cannot deadlock.
      const rows = next.value.map(toRow).sort((a, b) => byKey(a).localeCompare(byKey(b)));
      const result = await pool.query(statement, [
        rows.map((r) => r.organization_id),
        rows.map((r) => r.id),
        rows.map((r) => r.api_key_id),
        rows.map((r) => r.model),
        rows.map((r) => r.neurons),
        rows.map((r) => r.synapses),
        rows.map((r) => String(r.cost_nano)),
        rows.map((r) => r.occurred_at),
        Date.now(),
        rows.map((r) => r.cached_neurons),
        rows.map((r) => r.cache_write_neurons),
        rows.map((r) => r.reasoning_synapses),
        rows.map((r) => r.end_user),
        rows.map((r) => r.tags),
      ]);
      accepted += result.rowCount ?? 0;
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  const ms = performance.now() - started;
  await pool.end();
  return figures(stream.count, ms, accepted, stream.count - accepted);
}
