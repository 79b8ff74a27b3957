/**
 * Prices as the API and the CLI show them, and prices from what a request or a command states:
 * exact amounts, or a 400 naming the field (`cached_neurons_chf_per_million`, `--cached`).
 */
import { invalidRequest } from '../../errors.ts';
import { isoSeconds } from '../../time/calendar.ts';
import { MAX_PRICE_PICO, parsePricePico, picoToChf, picoToDecimal } from './cost.ts';
import { isPattern, type PriceEntry, type PriceSource } from './price-sheet.ts';

/** A price as the API shows it: the cache prices only where set, the source only in an organization's sheet. */
export function modelPriceView(entry: PriceEntry & { source?: PriceSource }) {
  return {
    model: entry.model,
    pattern: isPattern(entry.model),
    neurons_chf_per_million: picoToChf(entry.neuronsPico),
    synapses_chf_per_million: picoToChf(entry.synapsesPico),
    ...(entry.cachedNeuronsPico == null ? {} : { cached_neurons_chf_per_million: picoToChf(entry.cachedNeuronsPico) }),
    ...(entry.cacheWriteNeuronsPico == null
      ? {}
      : { cache_write_neurons_chf_per_million: picoToChf(entry.cacheWriteNeuronsPico) }),
    effective_from: isoSeconds(entry.effectiveFrom),
    ...(entry.source === undefined ? {} : { source: entry.source }),
  };
}

/** What a request or a command states of a price, each amount checked exactly (a 400 naming the field). */
export interface PriceInput {
  neurons: number | string;
  synapses: number | string;
  cachedNeurons?: number | string | undefined;
  cacheWriteNeurons?: number | string | undefined;
}

/** The entry of `model` from `effectiveFrom` on with the stated prices; `names` gives each amount's field. */
export function priceEntryOf(
  model: string,
  effectiveFrom: number,
  input: PriceInput,
  names: Record<keyof PriceInput, string>,
): PriceEntry {
  const optional = (field: string, value: number | string | undefined) =>
    value === undefined ? null : priceFromInput(field, value);
  return {
    model,
    effectiveFrom,
    neuronsPico: priceFromInput(names.neurons, input.neurons),
    synapsesPico: priceFromInput(names.synapses, input.synapses),
    cachedNeuronsPico: optional(names.cachedNeurons, input.cachedNeurons),
    cacheWriteNeuronsPico: optional(names.cacheWriteNeurons, input.cacheWriteNeurons),
  };
}

/** A price from a request, exact, or a 400 naming the field. */
export function priceFromInput(field: string, value: number | string): bigint {
  const pico = parsePricePico(value);
  if (pico === undefined) {
    const reason = `must be a CHF amount from 0 to ${picoToDecimal(MAX_PRICE_PICO)} with at most 12 decimals`;
    throw invalidRequest('Invalid request body', [{ field, reason }]);
  }
  return pico;
}
