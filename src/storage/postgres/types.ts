/** How node-postgres hands values back to this service. */
import pg from 'pg';

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
