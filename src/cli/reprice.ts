import type { Command } from 'commander';
import { checkRange, reprice } from '../modules/pricing/pricing.service.ts';
import { output, withContext } from './context.ts';
import { isoTime } from './prices.ts';

export function repriceCommand(program: Command): void {
  program
    .command('reprice')
    .description(
      'Recompute the cost of stored events of a model from the price sheet and rebuild the rollups of each changed month',
    )
    .requiredOption('--model <model>', 'model, sheet pattern, or base name (its dated snapshots are included)')
    .option('--from <iso-time>', 'first event time (inclusive); default: all history', isoTime)
    .option('--to <iso-time>', 'end (exclusive); default: now', isoTime)
    .option('--json', 'print one JSON object')
    .action(async (options: { model: string; from?: number; to?: number; json?: boolean }) => {
      checkRange(options.from, options.to);
      const result = await withContext(({ storage }) =>
        reprice(storage, { model: options.model, from: options.from, to: options.to }),
      );
      output(Boolean(options.json), { ...result }, [
        `Models: ${result.models.join(', ') || '(none with usage)'}`,
        `Events examined: ${result.examined}, changed: ${result.changed}, still unpriced: ${result.unpriced}, skipped: ${result.skipped}`,
        `Months rebuilt: ${result.months.join(', ') || 'none'}`,
      ]);
    });
}
