import type { Command } from 'commander';
import { requireOrganization } from '../modules/orgs/orgs.service.ts';
import { checkRollups, type RollupDifference } from '../modules/rollups/check.ts';
import { repairRollups } from '../modules/rollups/repair.ts';
import type { Counters } from '../usage/counters.ts';
import { output, withContext } from './context.ts';

const isoMonthOfKey = (key: number) => `${Math.floor(key / 100)}-${String(key % 100).padStart(2, '0')}`;

/** Each counter by its column, the parts after their totals and the cost last. */
function byColumn(c: Counters): Array<[string, bigint]> {
  return [
    ['requests', c.requests],
    ['neurons', c.neurons],
    ['cached_neurons', c.cachedNeurons],
    ['cache_write_neurons', c.cacheWriteNeurons],
    ['synapses', c.synapses],
    ['reasoning_synapses', c.reasoningSynapses],
    ['cost_nano', c.costNano],
  ];
}

function text(counters: Counters | null): string {
  if (!counters) return 'no row';
  return byColumn(counters)
    .map(([column, value]) => `${column}=${value}`)
    .join(' ');
}

function json(difference: RollupDifference) {
  const plain = (c: Counters | null) =>
    c && Object.fromEntries(byColumn(c).map(([column, value]) => [column, value.toString()]));
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
    .option(
      '--repair',
      'rebuild each month found different from its raw events (one transaction per month), then check again',
    )
    .option('--json', 'print one JSON object')
    .action(async (options: { org?: string; repair?: boolean; json?: boolean }) => {
      const result = await withContext(async ({ storage }) => {
        if (options.org !== undefined) await requireOrganization(storage.db, options.org);
        const check = await checkRollups(storage.db, options.org);
        if (!options.repair || check.differences.length === 0) return { check, repaired: [] as number[] };
        const repaired = await repairRollups(storage, check.differences);
        return { check: await checkRollups(storage.db, options.org), before: check, repaired };
      });
      const { check, repaired } = result;
      const found = result.before?.differences ?? check.differences;
      const lines = found.map((d) => `${d.table} ${d.key}: stored ${text(d.stored)}; from events ${text(d.expected)}`);
      if (options.repair && repaired.length > 0) {
        lines.push(
          `Rebuilt ${repaired.length} month(s) from the raw events: ${repaired.map(isoMonthOfKey).join(', ')}`,
        );
      }
      if (check.eventsRemovedBefore > 0) {
        lines.push(
          `Months before ${isoMonthOfKey(check.eventsRemovedBefore)} not checked: retention removed their raw events`,
        );
      }
      lines.push(`${check.monthsChecked} month(s) checked, ${check.differences.length} difference(s)`);
      output(
        Boolean(options.json),
        {
          months_checked: check.monthsChecked,
          ...(check.eventsRemovedBefore > 0 ? { events_removed_before: isoMonthOfKey(check.eventsRemovedBefore) } : {}),
          differences: check.differences.map(json),
          ...(options.repair ? { repaired_months: repaired.map(isoMonthOfKey), found: found.map(json) } : {}),
        },
        lines,
      );
      if (check.differences.length > 0) process.exitCode = 1;
    });
}
