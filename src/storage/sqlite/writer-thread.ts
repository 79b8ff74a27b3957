/**
 * The SQLite writer thread (see writer-thread-client.ts): its own connection to the database
 * file, writing each group of batches it is sent and replying with the indexes of the new events.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { connectSqlite, DEFAULT_BUSY_TIMEOUT_MS, WRITER_CACHE_KIB } from './connection.ts';
import { busyTimeoutOf, type DeadlinedBatch, type GroupWrite, sqliteGroupWrite } from './group-write.ts';

function serve(port: MessagePort, file: string): void {
  const db = connectSqlite(file);
  db.pragma(`cache_size = -${WRITER_CACHE_KIB}`);
  let write: GroupWrite | undefined;
  let busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS;
  port.postMessage({ ready: true });

  port.on('message', (message: DeadlinedBatch[] | 'close') => {
    if (message === 'close') {
      db.close();
      port.close();
      return;
    }
    try {
      // Prepared on first use, as an error reply should the tables not exist yet.
      write ??= sqliteGroupWrite(db);
      // Set per group (a call into SQLite, no I/O): each group waits for the lock only as long
      // as its batches' deadlines allow.
      const bound = busyTimeoutOf(message, DEFAULT_BUSY_TIMEOUT_MS);
      if (bound !== busyTimeoutMs) db.pragma(`busy_timeout = ${bound}`);
      busyTimeoutMs = bound;
      port.postMessage({ inserted: write(message) });
    } catch (error) {
      const { message: text, code } = error as { message?: string; code?: string };
      port.postMessage({ error: { message: text ?? String(error), code } });
    }
  });
}

serve(parentPort!, (workerData as { file: string }).file);
