import { type Command, InvalidArgumentError } from 'commander';
import { picoToDecimal } from '../modules/pricing/cost.ts';
import { modelPriceView, priceFromInput } from '../modules/pricing/pricing.routes.ts';
import { priceSheetAt, setPrice } from '../modules/pricing/pricing.service.ts';
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
  from?: number;
  json?: boolean;
}

export function pricesCommand(program: Command): void {
  const prices = program.command('prices').description('Show or change the price sheet (CHF per 1M units)');
  prices
    .command('list')
    .description('The price sheet in force now, or at --at')
    .option('--at <iso-time>', 'show the sheet in force at this time', isoTime)
    .option('--json', 'print one JSON object')
    .action(async (options: { at?: number; json?: boolean }) => {
      const at = options.at ?? Date.now();
      const entries = await withContext(({ storage }) => priceSheetAt(storage.db, at));
      const width = Math.max(5, ...entries.map((e) => e.model.length));
      output(Boolean(options.json), { at: isoSeconds(at), currency: 'CHF', models: entries.map(modelPriceView) }, [
        `Price sheet at ${isoSeconds(at)} (CHF per 1M units)`,
        `${'model'.padEnd(width)}  ${'neurons'.padStart(14)}  ${'synapses'.padStart(14)}  effective from`,
        ...entries.map(
          (e) =>
            `${e.model.padEnd(width)}  ${picoToDecimal(e.neuronsPico).padStart(14)}  ${picoToDecimal(e.synapsesPico).padStart(14)}  ${isoSeconds(e.effectiveFrom)}`,
        ),
      ]);
    });
  prices
    .command('set')
    .description('Add a price from --from (default: now); earlier costs stay as they were until repriced')
    .requiredOption('--model <model>', 'model name, or a pattern with * (e.g. "claude-*-haiku*")')
    .requiredOption('--neurons <chf>', 'CHF per 1M neurons (input)')
    .requiredOption('--synapses <chf>', 'CHF per 1M synapses (output)')
    .option('--from <iso-time>', 'from when the price applies', isoTime)
    .option('--json', 'print one JSON object')
    .action(async (options: SetOptions) => {
      const entry = {
        model: options.model,
        effectiveFrom: options.from ?? Date.now(),
        neuronsPico: priceFromInput('--neurons', options.neurons),
        synapsesPico: priceFromInput('--synapses', options.synapses),
      };
      await withContext(({ storage }) => setPrice(storage.db, entry, Date.now()));
      output(Boolean(options.json), modelPriceView(entry), [
        `${entry.model}: ${picoToDecimal(entry.neuronsPico)} CHF per 1M neurons, ${picoToDecimal(entry.synapsesPico)} CHF per 1M synapses, from ${isoSeconds(entry.effectiveFrom)}`,
        `Stored events keep their cost; run "freddy-analytics reprice --model ${entry.model} --from ${isoSeconds(entry.effectiveFrom)}" to apply it to them.`,
      ]);
    });
}
