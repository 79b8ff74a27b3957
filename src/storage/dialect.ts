/**
 * The few places where SQLite and PostgreSQL differ, each with the reason. Everything else
 * goes through Kysely's common builder.
 */
import pg from 'pg';
import { AppError } from '../errors.ts';

export type DialectName = 'sqlite' | 'postgres';

/**
 * Integers come back as `bigint` from both engines: better-sqlite3 runs with safe integers,
 * and PostgreSQL's int8 and numeric (the type of `sum(bigint)`) are parsed here, because
 * node-postgres returns them as strings to avoid losing precision.
 */
export const postgresTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8) return (text: string) => BigInt(text);
    if (oid === pg.types.builtins.NUMERIC) return (text: string) => numericToBigInt(text);
    return pg.types.getTypeParser(oid, format);
  },
};

function numericToBigInt(text: string): bigint | string {
  // Our numerics are sums of integers; anything fractional is returned untouched.
  return /^-?\d+$/.test(text) ? BigInt(text) : text;
}

/** Any integer a driver can hand back, as bigint (null stays null). */
export function toBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return BigInt(value);
  if (typeof value === 'string') return BigInt(value);
  if (value === null || value === undefined) return 0n;
  throw new TypeError(`not an integer: ${typeof value}`);
}

export function toNullableBigInt(value: unknown): bigint | null {
  return value === null || value === undefined ? null : toBigInt(value);
}

/** A counter that fits a JS number (event counts, epoch milliseconds). */
export function toNumber(value: unknown): number {
  return Number(toBigInt(value));
}

export function toNullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : toNumber(value);
}

/**
 * Errors after which the whole transaction may simply run again: PostgreSQL's serialization
 * failure and deadlock, SQLite's busy database (another process holds the write lock).
 */
export function isRetryableTransactionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01' || code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT';
}

/**
 * SQLSTATEs after which PostgreSQL has closed the session: an administrator or a restart ended
 * it (57P0x), it sat idle or idle in a transaction past the server's timeout (57P05, 25P03),
 * the server had no room for it (53300), or the connection itself failed (class 08).
 */
const SESSION_ENDED = new Set(['57P01', '57P02', '57P03', '57P05', '25P03', '53300']);

export function endsSession(code: unknown): boolean {
  return typeof code === 'string' && (SESSION_ENDED.has(code) || code.startsWith('08'));
}

/** Socket errors of a connection to PostgreSQL that went away or never came. */
const NETWORK_ERRORS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * node-postgres reports a lost or unobtainable connection with these messages and no code: the
 * socket closed under a query, a query was sent on a client that had already failed, or no
 * pooled connection came within connectionTimeoutMillis.
 */
const LOST_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error',
  'timeout exceeded when trying to connect',
];

/**
 * The work waited past its bound: PostgreSQL cancelled the statement (statement_timeout, 57014)
 * or gave up on a lock (lock_timeout, 55P03); SQLite's busy timeout ran out while another
 * connection held the write lock. The transaction was rolled back.
 */
function timedOut(code: unknown): boolean {
  return code === '57014' || code === '55P03' || (typeof code === 'string' && code.startsWith('SQLITE_BUSY'));
}

/**
 * The one place where database failures that are no fault of the request become
 * SERVICE_UNAVAILABLE (a 503 with Retry-After): the connection was lost, or the work ran out of
 * time. Undefined for any other error. The statement that failed did not commit, so the request
 * may be sent again; only a connection lost while COMMIT was on its way leaves the outcome
 * unknown, which retried ingestion absorbs (event ids) and a retried budget check pays for with
 * a reservation that expires unused.
 */
export function databaseUnavailable(error: unknown): AppError | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (timedOut(code)) return timeLimitReached();
  if (
    endsSession(code) ||
    (typeof code === 'string' && NETWORK_ERRORS.has(code)) ||
    LOST_MESSAGES.some((message) => error.message.startsWith(message))
  ) {
    return new AppError('SERVICE_UNAVAILABLE', { systemMessage: 'The connection to the database was lost' });
  }
  return undefined;
}

/**
 * The CHECK constraint an insert or update violated, if that is why it failed: PostgreSQL names
 * it in the error (check_violation), SQLite in the message ("CHECK constraint failed: <name>").
 */
export function violatedCheckConstraint(error: unknown): string | undefined {
  const { code, constraint, message } = (error ?? {}) as { code?: unknown; constraint?: unknown; message?: unknown };
  if (code === '23514') return typeof constraint === 'string' ? constraint : undefined;
  if (code === 'SQLITE_CONSTRAINT_CHECK' && typeof message === 'string') {
    return /CHECK constraint failed: (\w+)/.exec(message)?.[1];
  }
  return undefined;
}

/** SERVICE_UNAVAILABLE for work given up at its deadline, by the database or while it waited its turn. */
export function timeLimitReached(): AppError {
  return new AppError('SERVICE_UNAVAILABLE', {
    systemMessage: 'The database did not answer within the time limit of a request',
  });
}

/**
 * SQLite's sum() of integers fails past 2^63 ("integer overflow") rather than turn to a float;
 * PostgreSQL sums bigint as numeric and does not overflow.
 */
export function isSumOverflow(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'SQLITE_ERROR' && message === 'integer overflow';
}
