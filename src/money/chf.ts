/**
 * Exact CHF arithmetic. Money lives as integer nano-CHF (1e-9 CHF) in `bigint` from the
 * moment it enters until the HTTP edge, where it becomes a JSON number rounded half to even.
 */

export const NANO_PER_CHF = 1_000_000_000n;

/** Largest cost one usage event may carry: 1,000,000 CHF keeps every rollup sum far from 2^63. */
export const MAX_EVENT_COST_NANO = 1_000_000n * NANO_PER_CHF;

/** `n / d` rounded half to even; `d` must be positive. */
export function divideHalfEven(n: bigint, d: bigint): bigint {
  if (d <= 0n) throw new RangeError('divisor must be positive');
  const negative = n < 0n;
  const abs = negative ? -n : n;
  let q = abs / d;
  const twiceRemainder = (abs % d) * 2n;
  if (twiceRemainder > d || (twiceRemainder === d && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

const DECIMAL = /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * A non-negative decimal (a JSON number or a decimal string) as an integer count of
 * 10^-`decimals` units: `scaledDecimal("1.25", 9)` is 1_250_000_000n. Digits below that unit
 * are rounded half to even; `exact` says whether any were. Returns `undefined` for anything
 * that is not a finite, non-negative decimal (NaN, Infinity, "1,5", "-0.1", "").
 */
export function scaledDecimal(input: number | string, decimals: number): { value: bigint; exact: boolean } | undefined {
  // String(number) is the shortest text that reads back as the same double, so 0.1 is "0.1".
  const text = typeof input === 'number' ? (Number.isFinite(input) ? String(input) : '') : input.trim();
  const match = DECIMAL.exec(text);
  if (!match) return undefined;
  const [, whole = '', fraction = '', exponentText = '0'] = match;
  const exponent = Number(exponentText);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 400) return undefined;
  const digits = BigInt(whole + fraction);
  // value = digits * 10^(exponent - fraction.length), counted in units of 10^-decimals.
  const shift = exponent - fraction.length + decimals;
  if (shift >= 0) return { value: digits * 10n ** BigInt(shift), exact: true };
  const divisor = 10n ** BigInt(-shift);
  return { value: divideHalfEven(digits, divisor), exact: digits % divisor === 0n };
}

/** A non-negative CHF amount as nano-CHF, digits below one nano-CHF rounded half to even. */
export function parseChf(input: number | string): bigint | undefined {
  return scaledDecimal(input, 9)?.value;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** nano-CHF as a CHF JSON number, rounded half to even to `decimals` places (6 for money). */
export function nanoToChf(nano: bigint, decimals = 6): number {
  if (nano <= MAX_SAFE && nano >= -MAX_SAFE) return safeNanoToChf(Number(nano), decimals);
  return exactNanoToChf(nano, decimals);
}

/**
 * nanoToChf of a nano-CHF amount that is a safe integer, in doubles: every step is exact (the
 * remainder, and the quotient of a multiple), and the last division is rounded to the nearest
 * double as parsing the decimal text would be. Answers are full of amounts; this is the path
 * nearly all of them take.
 */
function safeNanoToChf(nano: number, decimals: number): number {
  const divisor = 10 ** (9 - decimals);
  const abs = Math.abs(nano);
  const remainder = abs % divisor;
  let scaled = (abs - remainder) / divisor;
  if (remainder * 2 > divisor || (remainder * 2 === divisor && scaled % 2 === 1)) scaled += 1;
  const value = scaled / 10 ** decimals;
  // 0 - value, not -value: an amount that rounds to nothing is 0, never -0.
  return nano < 0 ? 0 - value : value;
}

/** nanoToChf in bigints and decimal text alone, for any amount. */
export function exactNanoToChf(nano: bigint, decimals = 6): number {
  return scaledToNumber(divideHalfEven(nano, 10n ** BigInt(9 - decimals)), decimals);
}

/**
 * A money amount inside data written without a response schema (an error's `details`): the
 * error envelope writes it as CHF with a decimal point (`5.0`), as responses write money, and
 * any other JSON writer (a log line) as a plain number.
 */
export class ChfAmount {
  constructor(readonly nano: bigint) {}

  toJSON(): number {
    return nanoToChf(this.nano);
  }
}

/** `numerator / denominator` as a number rounded half to even to `decimals` places; 0 when the denominator is 0. */
export function ratio(numerator: bigint, denominator: bigint, decimals = 2): number {
  if (denominator === 0n) return 0;
  return scaledToNumber(divideHalfEven(numerator * 10n ** BigInt(decimals), denominator), decimals);
}

/** Percentage `part / whole * 100`, two decimals. */
export function percentage(part: bigint, whole: bigint): number {
  return ratio(part * 100n, whole, 2);
}

/** CHF per request, two decimals as the Freddy API shows it; 0 without requests. */
export function averageCostPerRequest(costNano: bigint, requests: bigint): number {
  return ratio(costNano, requests * NANO_PER_CHF, 2);
}

function scaledToNumber(scaled: bigint, decimals: number): number {
  if (decimals === 0) return Number(scaled);
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(decimals + 1, '0');
  const text = `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return Number(negative ? `-${text}` : text);
}
