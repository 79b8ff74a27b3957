/**
 * The cost of one usage event from the price sheet, in integers only.
 *
 * A price is CHF per 1M units, stored as integer pico-CHF (1e-12 CHF) per 1M units, so that
 * a price with up to 12 decimals is held exactly. For an event:
 *   cost_nano = round_half_even((neurons × neuron_price + synapses × synapse_price) / 10^9)
 * because pico-CHF per 1M units → nano-CHF per unit divides by 10^3 × 10^6. One rounding per
 * event; bigint arithmetic cannot overflow on the way.
 */
import { divideHalfEven, scaledDecimal } from '../../money/chf.ts';

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

/**
 * CHF per 1M units (a JSON number or a decimal string) as pico-CHF. Unlike a cost, a price is
 * never rounded: more than 12 decimals, a negative value or more than MAX_PRICE_PICO is
 * `undefined`, and the caller rejects it.
 */
export function parsePricePico(input: number | string): bigint | undefined {
  const parsed = scaledDecimal(input, PRICE_DECIMALS);
  return parsed?.exact && parsed.value <= MAX_PRICE_PICO ? parsed.value : undefined;
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
