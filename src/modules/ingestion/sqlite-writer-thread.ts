/**
 * The SQLite writer thread (see sqlite-writer.ts): its own connection to the database file,
 * writing each group of batches it is sent and replying with the indexes of the new events.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { connectSqlite, DEFAULT_BUSY_TIMEOUT_MS, WRITER_CACHE_KIB } from '../../storage/sqlite.ts';
import { type Batch, busyTimeoutOf, type GroupWrite, sqliteGroupWrite } from './sqlite-group-write.ts';

const port = parentPort!;
const db = connectSqlite((workerData as { file: string }).file);
db.pragma(`cache_size = -${WRITER_CACHE_KIB}`);
let write: GroupWrite | undefined;
let busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS;
port.postMessage({ ready: true });

port.on('message', (message: Batch[] | 'close') => {
  if (message === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    // Prepared on first use, as an error reply should the tables not exist yet.
    write ??= sqliteGroupWrite(db);
    // Set per group (a call into SQLite, no I/O): each group waits for the lock only as long as
    // its batches' deadlines allow.
    const bound = busyTimeoutOf(message, DEFAULT_BUSY_TIMEOUT_MS);
    if (bound !== busyTimeoutMs) db.pragma(`busy_timeout = ${bound}`);
    busyTimeoutMs = bound;
    port.postMessage({ inserted: write(message) });
  } catch (error) {
    const { message: text, code } = error as { message?: string; code?: string };
    port.postMessage({ error: { message: text ?? String(error), code } });
  }
});
