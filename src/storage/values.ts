/**
 * Values as either engine hands them back, made alike: integers as bigint (better-sqlite3 runs
 * with safe integers; PostgreSQL's int8 and numeric are parsed in postgres/types.ts).
 */

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
