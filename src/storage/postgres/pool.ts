/**
 * The PostgreSQL connection pool, set up so that a connection the server or the network drops
 * fails only the requests that were using it, and the next request connects anew.
 *
 * node-postgres emits 'error' on a client whose connection fails, and its pool emits it again
 * for an idle client; an 'error' event that nobody listens to ends the process. Both are
 * listened to here: the failure goes to `onLost` and pg-pool drops the client.
 *
 * pg-pool also drops a client released after its connection failed, but a session that the
 * server ends (pg_terminate_backend, idle_session_timeout, a restart) first answers the running
 * query with a FATAL error and closes the socket only after. A client released in between went
 * back to the pool and could be handed to the next request; such a client is released as
 * broken instead.
 */
import type { PostgresPool } from 'kysely';
import pg from 'pg';
import { endsSession } from '../failures.ts';
import { postgresTypes } from './types.ts';

export interface PostgresPoolOptions {
  url: string;
  poolSize: number;
  schema?: string | undefined;
  /**
   * Bound, in ms, of each statement (statement_timeout, lock waits included) and of the wait for
   * a pooled connection; none when absent. Sent with each connection's start-up message, it
   * costs no round trip and covers every statement, inside a transaction or not: the ingestion
   * write and the reads run as single statements, where a `set local` at BEGIN would not reach.
   * It bounds statements, not whole requests: a request that made several slow statements could
   * take longer, but the usual cause of a wait, a lock held elsewhere, fails the first statement
   * that meets it.
   */
  timeoutMs?: number | undefined;
  /**
   * Behind a pooler in transaction mode (DATABASE_POOL_MODE=transaction) a connection is not a
   * session: start-up parameters would be refused (PgBouncer rejects `options` and
   * `statement_timeout`) and a SET would stay on whichever server connection ran it. Then the
   * schema and statement_timeout are not sent; the role or the pooler sets them (see
   * postgresSessionProblems), and only the wait for a pooled connection is bounded here.
   */
  transactionPooling?: boolean | undefined;
  /** Told of each pooled connection that failed; pg-pool has dropped it by then. */
  onLost(error: Error): void;
}

export function openPostgresPool(options: PostgresPoolOptions): { pool: pg.Pool; driverPool: PostgresPool } {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    types: postgresTypes,
    ...(options.schema && !options.transactionPooling ? { options: `-c search_path=${options.schema}` } : {}),
    ...(options.timeoutMs && !options.transactionPooling ? { statement_timeout: options.timeoutMs } : {}),
    ...(options.timeoutMs ? { connectionTimeoutMillis: options.timeoutMs } : {}),
  });
  const sessionEnded = new WeakSet<pg.PoolClient>();
  pool.on('connect', (client) => {
    let reported = false;
    client.on('error', (error) => {
      // A client may emit twice for one loss: the server's FATAL message, then the closed socket.
      if (!reported) options.onLost(error);
      reported = true;
    });
    client.connection.on('errorMessage', (message: { code?: string }) => {
      if (endsSession(message.code)) sessionEnded.add(client);
    });
  });
  // The client's own listener above has reported it; this one only keeps the event handled.
  pool.on('error', () => {});
  const driverPool: PostgresPool = {
    async connect() {
      const client = await pool.connect();
      // pg-pool gives each checkout a release function of its own.
      const release = client.release;
      client.release = (error?: Error | boolean) => release(error ?? sessionEnded.has(client));
      return client;
    },
    end: () => pool.end(),
  };
  return { pool, driverPool };
}
