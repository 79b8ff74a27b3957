/**
 * The cost of one usage event from the price sheet, in integers only.
 *
 * A price is CHF per 1M units, stored as integer pico-CHF (1e-12 CHF) per 1M units, so that
 * a price with up to 12 decimals is held exactly. For an event:
 *   cost_nano = round_half_even((neurons × neuron_price + synapses × synapse_price) / 10^9)
 * because pico-CHF per 1M units → nano-CHF per unit divides by 10^3 × 10^6. One rounding per
 * event; bigint arithmetic cannot overflow on the way.
 */
import { divideHalfEven } from '../../money/chf.ts';

export const PICO_PER_CHF = 1_000_000_000_000n;
/** Decimals a price may have (pico-CHF). */
export const PRICE_DECIMALS = 12;
/** Highest price per 1M units: 1,000,000 CHF = 10^18 pico-CHF, inside a signed 64-bit column. */
export const MAX_PRICE_PICO = 1_000_000n * PICO_PER_CHF;

const PICO_PER_MILLION_TO_NANO_PER_UNIT = 1_000_000_000n;

export interface Price {
  /** pico-CHF per 1M neurons. */
  neuronsPico: bigint;
  /** pico-CHF per 1M synapses. */
  synapsesPico: bigint;
}

export function eventCostNano(neurons: bigint, synapses: bigint, price: Price): bigint {
  return divideHalfEven(neurons * price.neuronsPico + synapses * price.synapsesPico, PICO_PER_MILLION_TO_NANO_PER_UNIT);
}

const DECIMAL = /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * CHF per 1M units (a JSON number or a decimal string) as pico-CHF. Unlike a cost, a price is
 * never rounded: more than 12 decimals, a negative value or more than MAX_PRICE_PICO is
 * `undefined`, and the caller rejects it.
 */
export function parsePricePico(input: number | string): bigint | undefined {
  const text = typeof input === 'number' ? (Number.isFinite(input) ? String(input) : '') : input.trim();
  const match = DECIMAL.exec(text);
  if (!match) return undefined;
  const [, whole = '', fraction = '', exponentText = '0'] = match;
  const exponent = Number(exponentText);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 400) return undefined;
  const digits = BigInt(whole + fraction);
  const shift = exponent - fraction.length + PRICE_DECIMALS;
  let pico: bigint;
  if (shift >= 0) pico = digits * 10n ** BigInt(shift);
  else {
    const divisor = 10n ** BigInt(-shift);
    if (digits % divisor !== 0n) return undefined;
    pico = digits / divisor;
  }
  return pico <= MAX_PRICE_PICO ? pico : undefined;
}

/** pico-CHF as exact decimal text with trailing zeros dropped (at least two decimals): "8.00", "0.15". */
export function picoToDecimal(pico: bigint): string {
  const whole = pico / PICO_PER_CHF;
  const fraction = (pico % PICO_PER_CHF).toString().padStart(PRICE_DECIMALS, '0').replace(/0+$/, '');
  return `${whole}.${fraction.padEnd(2, '0')}`;
}

/** pico-CHF as a JSON number (exact up to about 15 significant digits, as any double). */
export function picoToChf(pico: bigint): number {
  return Number(picoToDecimal(pico));
}
