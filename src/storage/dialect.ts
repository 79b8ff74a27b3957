/**
 * The few places where SQLite and PostgreSQL differ, each with the reason. Everything else
 * goes through Kysely's common builder.
 */
import pg from 'pg';

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

/**
 * SQLite's sum() of integers fails past 2^63 ("integer overflow") rather than turn to a float;
 * PostgreSQL sums bigint as numeric and does not overflow.
 */
export function isSumOverflow(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'SQLITE_ERROR' && message === 'integer overflow';
}
