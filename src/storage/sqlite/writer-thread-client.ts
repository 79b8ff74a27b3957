/**
 * SQLite ingestion in a thread of its own, on its own connection to the database file.
 * better-sqlite3 runs each statement synchronously, and writing a group (its rows, then the
 * commit's fsync) took most of the event loop's time under load, during which no request could
 * be read, validated or answered. With the writer in a thread, the event loop goes on serving
 * while a group is written, and the batches that arrive meanwhile make up the next group.
 *
 * One group is written at a time: SQLite has one writer anyway. Writes on the server's own
 * connection (keys, limits, reservations) wait for the group's transaction (busy_timeout).
 */
import { Worker } from 'node:worker_threads';
import type { DeadlinedBatch } from './group-write.ts';

interface Reply {
  /** Sent once, when the thread has opened its connection. */
  ready?: true;
  inserted?: number[][];
  error?: { message: string; code?: string };
}

export class SqliteWriterThread {
  private worker: Worker | undefined;
  private closed = false;
  private inFlight: { resolve(inserted: number[][]): void; reject(error: unknown): void } | undefined;
  private ready: Promise<void> | undefined;

  constructor(private readonly file: string) {}

  /**
   * Starts the thread unless it runs, and resolves once it has opened its connection, or rejects
   * if it could not. The server waits for this before it listens rather than on its first
   * batch.
   */
  async open(): Promise<void> {
    if (this.closed) throw new Error('the database is closed');
    const worker = this.worker ?? this.start();
    worker.ref();
    try {
      await this.ready;
    } finally {
      if (!this.inFlight) worker.unref();
    }
  }

  /** Writes the group in one transaction; resolves, per batch, with the indexes of the new events. */
  write(batches: readonly DeadlinedBatch[]): Promise<number[][]> {
    if (this.closed) return Promise.reject(new Error('the database is closed'));
    if (this.inFlight) return Promise.reject(new Error('the SQLite writer is already writing a group'));
    const worker = this.worker ?? this.start();
    return new Promise((resolve, reject) => {
      this.inFlight = { resolve, reject };
      // Kept alive while it writes, so that a process with nothing else to wait for (a CLI
      // import) does not exit before its batch is committed.
      worker.ref();
      worker.postMessage(batches);
    });
  }

  /** Lets the group being written finish, then closes the thread's connection. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.ref();
    worker.postMessage('close');
    await exited;
  }

  private start(): Worker {
    const worker = new Worker(new URL('./writer-thread.js', import.meta.url), {
      workerData: { file: this.file },
      // Not the parent's flags (a test runner's, say): the thread only writes.
      execArgv: [],
    });
    worker.unref();
    let started: () => void = () => {};
    let failed: (error: unknown) => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      started = resolve;
      failed = reject;
    });
    // Awaited only by open(); a thread that fails to start also fails the write waiting for it.
    this.ready.catch(() => {});
    worker.on('message', (reply: Reply) => {
      if (reply.ready) return started();
      worker.unref();
      const inFlight = this.settle();
      if (reply.error) inFlight?.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      else inFlight?.resolve(reply.inserted!);
    });
    worker.on('error', (error) => {
      if (this.worker === worker) this.worker = undefined;
      failed(error);
      this.settle()?.reject(error);
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      const error = new Error(`the SQLite writer thread stopped (exit code ${code})`);
      failed(error);
      this.settle()?.reject(error);
    });
    this.worker = worker;
    return worker;
  }

  private settle() {
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    return inFlight;
  }
}
