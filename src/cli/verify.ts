import type { Command } from 'commander';
import { checkRollups, type RollupDifference } from '../modules/rollups/check.ts';
import type { Counters } from '../usage/counters.ts';
import { output, withContext } from './context.ts';

function text(counters: Counters | null): string {
  if (!counters) return 'no row';
  return `requests=${counters.requests} neurons=${counters.neurons} synapses=${counters.synapses} cost_nano=${counters.costNano}`;
}

function json(difference: RollupDifference) {
  const plain = (c: Counters | null) =>
    c && {
      requests: c.requests.toString(),
      neurons: c.neurons.toString(),
      synapses: c.synapses.toString(),
      cost_nano: c.costNano.toString(),
    };
  return {
    table: difference.table,
    key: difference.key,
    stored: plain(difference.stored),
    expected: plain(difference.expected),
  };
}

export function verifyCommand(program: Command): void {
  program
    .command('verify')
    .description('Recompute every rollup from raw events and report differences (exit code 1 if any)')
    .option('--org <org_id>', 'only this organization')
    .option('--json', 'print one JSON object')
    .action(async (options: { org?: string; json?: boolean }) => {
      const check = await withContext(({ storage }) => checkRollups(storage.db, options.org));
      const { differences } = check;
      output(Boolean(options.json), { months_checked: check.monthsChecked, differences: differences.map(json) }, [
        ...differences.map((d) => `${d.table} ${d.key}: stored ${text(d.stored)}; from events ${text(d.expected)}`),
        `${check.monthsChecked} month(s) checked, ${differences.length} difference(s)`,
      ]);
      if (differences.length > 0) process.exitCode = 1;
    });
}
