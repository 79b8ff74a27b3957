/**
 * Which of SQLite's B-trees ingestion's commits write, and how many pages per event, for
 * groups of 1, 2, 4… batches per commit. Under synchronous = FULL these pages, synced to the
 * WAL and later copied into the database, are most of what a commit costs (see README
 * "Performance"). The benchmark's events are written in process by the writer's own code
 * (sqliteGroupWrite) into a fresh file with automatic checkpoints off; after each commit the
 * page numbers of the frames it appended to the WAL are read, and SQLite's dbstat table names
 * each page's table or index. Timings exclude the checkpoint made after each commit.
 *
 *   npm run build && node dist/bench/wal-pages.js [--events 200000] [--groups 1,2,4,8]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type SQLite from 'better-sqlite3';
import { firstOfEachId, type Reject, toUsageEvent } from '../src/modules/ingestion/event-input.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { connectSqlite, WRITER_CACHE_KIB } from '../src/storage/sqlite/connection.ts';
import { sqliteGroupWrite } from '../src/storage/sqlite/group-write.ts';
import type { Batch } from '../src/storage/storage.ts';
import { openStorage } from '../src/storage/storage.ts';
import { type BenchEvent, eventBatches, type Tenancy } from './data.ts';
import { BATCH } from './ingest.ts';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '200000' }, groups: { type: 'string', default: '1,2,4,8' } },
});
const events = Number(values.events);
const groups = values.groups.split(',').map(Number);
if (!Number.isInteger(events) || events < BATCH) throw new Error(`--events must be an integer of at least ${BATCH}`);
if (!groups.every((g) => Number.isInteger(g) && g >= 1)) throw new Error('--groups: positive integers, e.g. 1,2,4');

const TENANCY: Tenancy = { orgs: 300, keysPerOrg: 10 };
const WAL_HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 24;

interface GroupSizeFigures {
  group: number;
  /** Events written in the measured commits (the last fifth of the run). */
  events: number;
  frames: number;
  pageSize: number;
  microsecondsPerEvent: number;
  framesByTree: Map<string, number>;
}

/** A batch as the ingestion service hands it to the writer: parsed, each id once, in key order. */
function toBatch(events: BenchEvent[]): Batch {
  const receivedAt = Date.now();
  const reject: Reject = (index, field, reason) => {
    throw new Error(`the benchmark's data is invalid: events[${index}].${field} ${reason}`);
  };
  const parsed = events.map((event, index) => toUsageEvent(event, index, receivedAt, reject));
  return { events: firstOfEachId(parsed), reservations: [], receivedAt };
}

/** The page number of each frame in `wal` from byte `from` on. */
function framePages(wal: Buffer, from: number, pageSize: number): number[] {
  const pages: number[] = [];
  for (let at = from; at + FRAME_HEADER_BYTES <= wal.length; at += FRAME_HEADER_BYTES + pageSize) {
    pages.push(wal.readUInt32BE(at));
  }
  return pages;
}

function treeOfPage(db: SQLite.Database): Map<number, string> {
  const rows = db.prepare('select name, pageno from dbstat').all() as Array<{ name: string; pageno: bigint }>;
  return new Map(rows.map((row) => [Number(row.pageno), row.name]));
}

async function measure(group: number): Promise<GroupSizeFigures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-wal-pages-'));
  const file = path.join(dir, 'wal-pages.sqlite');
  try {
    const storage = await openStorage({ kind: 'sqlite', path: file });
    await migrateToLatest(storage);
    await storage.close();
    const db = connectSqlite(file);
    db.pragma(`cache_size = -${WRITER_CACHE_KIB}`);
    db.pragma('wal_autocheckpoint = 0');
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    const write = sqliteGroupWrite(db);
    const keyIds = Array.from({ length: TENANCY.orgs }, (_, o) =>
      Array.from({ length: TENANCY.keysPerOrg }, (_, k) => `apikey_${o}_${k}`),
    );
    const stream = { count: events, tenancy: TENANCY, keyIds, end: Date.now(), withCost: true, idPrefix: 'w' };
    const measuredFrom = Math.floor((events / BATCH / group) * 0.8);
    const pages = new Map<number, number>();
    let measuredEvents = 0;
    let frames = 0;
    let writeMs = 0;
    let commits = 0;
    let pending: Batch[] = [];
    const commit = () => {
      const started = performance.now();
      write(pending);
      writeMs += performance.now() - started;
      if (commits++ >= measuredFrom) {
        for (const page of framePages(fs.readFileSync(`${file}-wal`), WAL_HEADER_BYTES, pageSize)) {
          pages.set(page, (pages.get(page) ?? 0) + 1);
          frames++;
        }
        for (const batch of pending) measuredEvents += batch.events.length;
      }
      pending = [];
      db.pragma('wal_checkpoint(TRUNCATE)');
    };
    for (const batch of eventBatches(stream, BATCH)) {
      pending.push(toBatch(batch));
      if (pending.length === group) commit();
    }
    if (pending.length > 0) commit();
    const trees = treeOfPage(db);
    db.close();
    const framesByTree = new Map<string, number>();
    for (const [page, count] of pages) {
      const tree = trees.get(page) ?? '(free or new pages)';
      framesByTree.set(tree, (framesByTree.get(tree) ?? 0) + count);
    }
    return {
      group,
      events: measuredEvents,
      frames,
      pageSize,
      microsecondsPerEvent: (1000 * writeMs) / events,
      framesByTree,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const results: GroupSizeFigures[] = [];
for (const group of groups) results.push(await measure(group));

const perEvent = (n: number, r: GroupSizeFigures) => (n / r.events).toFixed(3);
const trees = [...new Set(results.flatMap((r) => [...r.framesByTree.keys()]))].sort(
  (a, b) => (results[0]!.framesByTree.get(b) ?? 0) - (results[0]!.framesByTree.get(a) ?? 0),
);
const lines = [
  `${events} events, batches of ${BATCH}; WAL frames per event in the last fifth of the run:`,
  '',
  `| B-tree | ${results.map((r) => `${r.group} per commit`).join(' | ')} |`,
  `| --- | ${results.map(() => '---:').join(' | ')} |`,
  ...trees.map((tree) => `| ${tree} | ${results.map((r) => perEvent(r.framesByTree.get(tree) ?? 0, r)).join(' | ')} |`),
  `| **all** | ${results.map((r) => `**${perEvent(r.frames, r)}**`).join(' | ')} |`,
  `| KiB per event | ${results.map((r) => ((r.frames * r.pageSize) / r.events / 1024).toFixed(2)).join(' | ')} |`,
  `| µs per event, checkpoints excluded | ${results.map((r) => r.microsecondsPerEvent.toFixed(1)).join(' | ')} |`,
];
process.stdout.write(`${lines.join('\n')}\n`);
