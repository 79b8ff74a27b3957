// How the dashboard writes numbers and months. The API rounds money to 6 decimals: amounts of
// 1 CHF and more show 2 decimals, smaller ones up to 4 significant digits, never more than the
// API's 6 decimals, so that 0.0019 CHF shows as 0.0019, not 0.00, and no digit is made up.

const integerFormat = new Intl.NumberFormat('en-US');
const chfFormats = [2, 3, 4, 5, 6].map(
  (decimals) => new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: decimals }),
);
const SMALLEST_CHF = 0.000001;

export function integer(value) {
  return integerFormat.format(value);
}

export function chf(value) {
  if (value === 0 || !Number.isFinite(value)) return chfFormats[0].format(value);
  // A figure the page computed (an average) can be finer than the API's precision.
  if (Math.abs(value) < SMALLEST_CHF / 2) return `< ${chfFormats[4].format(SMALLEST_CHF)}`;
  if (Math.abs(value) >= 1) return chfFormats[0].format(value);
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  return chfFormats[Math.min(6, 3 - magnitude) - 2].format(value);
}

/** A share the API rounded to 2 decimals; a non-zero amount that rounded to 0 says so. */
export function percent(value, amount) {
  if (value === 0 && amount > 0) return '< 0.01 %';
  return `${value.toFixed(2)} %`;
}

/** `{ year, month }` of `YYYY-MM`, or undefined. */
export function parseMonth(text) {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(text ?? '');
  return match ? { year: Number(match[1]), month: Number(match[2]) } : undefined;
}

export function monthText({ year, month }) {
  return `${year}-${String(month).padStart(2, '0')}`;
}

export function addMonths({ year, month }, count) {
  const index = year * 12 + (month - 1) + count;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

export function monthQuery({ year, month }) {
  return `year=${year}&month=${month}`;
}
