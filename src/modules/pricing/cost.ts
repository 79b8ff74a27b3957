/**
 * The cost of one usage event from the price sheet, in integers only.
 *
 * A price is CHF per 1M units, stored as integer pico-CHF (1e-12 CHF) per 1M units, so that
 * a price with up to 12 decimals is held exactly. For an event, with its cache parts priced
 * apart (a model without cache prices prices them as neurons):
 *   cost_nano = round_half_even(((neurons − cached − cache_write) × neuron_price
 *     + cached × cached_price + cache_write × cache_write_price + synapses × synapse_price) / 10^9)
 * because pico-CHF per 1M units → nano-CHF per unit divides by 10^3 × 10^6. One rounding per
 * event; bigint arithmetic cannot overflow on the way. Reasoning synapses are synapses: they
 * are reported, not priced apart.
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
  /** pico-CHF per 1M neurons read from the prompt cache; absent or null: the neuron price. */
  cachedNeuronsPico?: bigint | null | undefined;
  /** pico-CHF per 1M neurons written to the prompt cache; absent or null: the neuron price. */
  cacheWriteNeuronsPico?: bigint | null | undefined;
}

/** What an event's cost is computed from: its totals, and the cache parts of its neurons (0 when absent). */
export interface CostUnits {
  neurons: bigint;
  synapses: bigint;
  cachedNeurons?: bigint | undefined;
  cacheWriteNeurons?: bigint | undefined;
}

export function eventCostNano(units: CostUnits, price: Price): bigint {
  const cached = units.cachedNeurons ?? 0n;
  const cacheWrite = units.cacheWriteNeurons ?? 0n;
  const picoTimesMillion =
    (units.neurons - cached - cacheWrite) * price.neuronsPico +
    cached * (price.cachedNeuronsPico ?? price.neuronsPico) +
    cacheWrite * (price.cacheWriteNeuronsPico ?? price.neuronsPico) +
    units.synapses * price.synapsesPico;
  return divideHalfEven(picoTimesMillion, PICO_PER_MILLION_TO_NANO_PER_UNIT);
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
