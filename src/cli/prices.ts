import { type Command, InvalidArgumentError } from 'commander';
import { OPERATOR } from '../modules/auth/principal.ts';
import { picoToDecimal } from '../modules/pricing/cost.ts';
import type { PriceEntry, PriceSource } from '../modules/pricing/price-sheet.ts';
import { modelPriceView, priceEntryOf } from '../modules/pricing/price-view.ts';
import {
  organizationPriceSheetAt,
  priceSheetAt,
  setOrganizationPrice,
  setPrice,
} from '../modules/pricing/pricing.service.ts';
import { isoSeconds, parseIsoTime } from '../time/calendar.ts';
import { output, withContext } from './context.ts';

export function isoTime(value: string): number {
  const ms = parseIsoTime(value);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected an ISO-8601 time, e.g. 2026-01-01T00:00:00Z');
  return ms;
}

interface SetOptions {
  model: string;
  neurons: string;
  synapses: string;
  cached?: string;
  cacheWrite?: string;
  org?: string;
  from?: number;
  json?: boolean;
}

const OPTION_NAMES = {
  neurons: '--neurons',
  synapses: '--synapses',
  cachedNeurons: '--cached',
  cacheWriteNeurons: '--cache-write',
} as const;

/** A price's amounts as one line: "8.00 CHF per 1M neurons (cached 0.80), 80.00 CHF per 1M synapses". */
function describePrice(entry: PriceEntry): string {
  const cache = [
    entry.cachedNeuronsPico == null ? undefined : `cached ${picoToDecimal(entry.cachedNeuronsPico)}`,
    entry.cacheWriteNeuronsPico == null ? undefined : `cache writes ${picoToDecimal(entry.cacheWriteNeuronsPico)}`,
  ].filter((part) => part !== undefined);
  return `${picoToDecimal(entry.neuronsPico)} CHF per 1M neurons${cache.length ? ` (${cache.join(', ')})` : ''}, ${picoToDecimal(entry.synapsesPico)} CHF per 1M synapses`;
}

export function pricesCommand(program: Command): void {
  const prices = program.command('prices').description('Show or change the price sheet (CHF per 1M units)');
  prices
    .command('list')
    .description('The price sheet in force now, or at --at; with --org, the sheet that organization gets')
    .option('--at <iso-time>', 'show the sheet in force at this time', isoTime)
    .option('--org <org-id>', "the organization's sheet: its own prices over the platform's")
    .option('--json', 'print one JSON object')
    .action(async (options: { at?: number; org?: string; json?: boolean }) => {
      const at = options.at ?? Date.now();
      const org = options.org;
      const entries: Array<PriceEntry & { source?: PriceSource }> = await withContext(({ storage }) =>
        org === undefined ? priceSheetAt(storage.db, at) : organizationPriceSheetAt(storage.db, OPERATOR, org, at),
      );
      const width = Math.max(5, ...entries.map((e) => e.model.length));
      const cell = (pico: bigint | null | undefined) => (pico == null ? '-' : picoToDecimal(pico)).padStart(14);
      const sheet = {
        at: isoSeconds(at),
        ...(org === undefined ? {} : { organization_id: org }),
        currency: 'CHF',
        models: entries.map(modelPriceView),
      };
      output(Boolean(options.json), sheet, [
        `Price sheet${org === undefined ? '' : ` of ${org}`} at ${isoSeconds(at)} (CHF per 1M units; cache "-": as neurons)`,
        `${'model'.padEnd(width)}  ${'neurons'.padStart(14)}  ${'cached'.padStart(14)}  ${'cache writes'.padStart(14)}  ${'synapses'.padStart(14)}  effective from${org === undefined ? '' : '        source'}`,
        ...entries.map(
          (e) =>
            `${e.model.padEnd(width)}  ${cell(e.neuronsPico)}  ${cell(e.cachedNeuronsPico)}  ${cell(e.cacheWriteNeuronsPico)}  ${cell(e.synapsesPico)}  ${isoSeconds(e.effectiveFrom)}${e.source === undefined ? '' : `  ${e.source}`}`,
        ),
      ]);
    });
  prices
    .command('set')
    .description(
      "Add a price from --from (default: now); with --org, that organization's own price, which takes precedence over the platform's for its events. Earlier costs stay as they were until repriced",
    )
    .requiredOption('--model <model>', 'model name, or a pattern with * (e.g. "claude-*-haiku*")')
    .requiredOption('--neurons <chf>', 'CHF per 1M neurons (input)')
    .requiredOption('--synapses <chf>', 'CHF per 1M synapses (output)')
    .option('--cached <chf>', 'CHF per 1M neurons read from the prompt cache (default: the neuron price)')
    .option('--cache-write <chf>', 'CHF per 1M neurons written to the prompt cache (default: the neuron price)')
    .option('--org <org-id>', "the organization's own price (a negotiated rate)")
    .option('--from <iso-time>', 'from when the price applies', isoTime)
    .option('--json', 'print one JSON object')
    .action(async (options: SetOptions) => {
      const entry = priceEntryOf(
        options.model,
        options.from ?? Date.now(),
        {
          neurons: options.neurons,
          synapses: options.synapses,
          cachedNeurons: options.cached,
          cacheWriteNeurons: options.cacheWrite,
        },
        OPTION_NAMES,
      );
      const org = options.org;
      await withContext(({ storage }) =>
        org === undefined
          ? setPrice(storage.db, entry, Date.now())
          : setOrganizationPrice(storage.db, org, entry, Date.now()),
      );
      const view =
        org === undefined
          ? modelPriceView(entry)
          : { organization_id: org, ...modelPriceView({ ...entry, source: 'organization' }) };
      output(Boolean(options.json), view, [
        `${org === undefined ? '' : `${org}: `}${entry.model}: ${describePrice(entry)}, from ${isoSeconds(entry.effectiveFrom)}`,
        `Stored events keep their cost; run "freddy-analytics reprice --model ${entry.model} --from ${isoSeconds(entry.effectiveFrom)}" to apply it to them.`,
      ]);
    });
}
