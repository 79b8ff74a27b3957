/**
 * `freddy-analytics report --org ORG [--month YYYY-MM]`: one month of usage as tables in the
 * terminal (totals, models, API keys with budget status), or one JSON object with --json.
 */
import type { Command } from 'commander';
import { AppError } from '../errors.ts';
import { type MonthReport, monthReport } from '../modules/analytics/month-report.ts';
import { type YearMonth, yearMonthOf } from '../time/calendar.ts';
import { withContext } from './context.ts';

export function parseMonth(value: string | undefined, now: number): YearMonth {
  if (value === undefined) return yearMonthOf(now);
  const match = /^(\d{4})-(\d{2})$/.exec(value);
  const year = Number(match?.[1]);
  const month = Number(match?.[2]);
  if (!match || month < 1 || month > 12 || year < 2000) {
    throw new AppError('INVALID_REQUEST', {
      systemMessage: `--month must be a month as YYYY-MM, e.g. 2026-11 (got "${value}")`,
    });
  }
  return { year, month };
}

/** Columns padded to their widest cell; numbers right-aligned. */
export function table(header: string[], rows: string[][], numeric: boolean[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

const chf = (amount: number) => amount.toFixed(2);
const count = (n: number) => n.toLocaleString('en-US');

export function reportLines(report: MonthReport): string[] {
  const { totals } = report;
  const lines = [
    `Usage of ${report.organization_name} (${report.organization_id}) in ${report.month} (UTC)`,
    '',
    ...table(
      ['', 'Requests', 'Neurons', 'Synapses', 'Cost (CHF)'],
      [
        ['Total', count(totals.requests), count(totals.neurons), count(totals.synapses), chf(totals.cost)],
        ...[report.api_key_totals].map((k) => [
          'With API keys',
          count(k.requests),
          count(k.neurons),
          count(k.synapses),
          chf(k.cost),
        ]),
      ],
      [false, true, true, true, true],
    ),
    `Average cost per request: ${totals.average_cost_per_request.toFixed(2)} CHF`,
    '',
  ];
  if (report.models.length === 0) lines.push('No usage in this month.');
  else {
    lines.push(
      ...table(
        ['Model', 'Requests', 'Cost (CHF)', 'Share'],
        report.models.map((m) => [m.model, count(m.requests), chf(m.cost), `${m.percentage.toFixed(2)} %`]),
        [false, true, true, true],
      ),
    );
  }
  if (report.api_keys.length > 0) {
    lines.push(
      '',
      ...table(
        ['API key', 'Name', 'Requests', 'Cost (CHF)', 'Limit (CHF)', 'Used', 'Status'],
        report.api_keys.map((k) => [
          k.api_key_id,
          k.name,
          count(k.requests),
          chf(k.cost),
          k.limit.monthlyLimit === null ? '-' : chf(k.limit.monthlyLimit),
          k.limit.utilizationPercentage === null ? '-' : `${k.limit.utilizationPercentage.toFixed(2)} %`,
          k.limit.status,
        ]),
        [false, false, true, true, true, true, false],
      ),
    );
  }
  return lines;
}

export function reportCommand(program: Command): void {
  program
    .command('report')
    .description("Show an organization's usage of one UTC month: totals, models, API keys and their budgets")
    .requiredOption('--org <org_id>', 'organization')
    .option('--month <YYYY-MM>', 'the month (default: the current UTC month)')
    .option('--json', 'print one JSON object')
    .action(async (options: { org: string; month?: string; json?: boolean }) => {
      const period = parseMonth(options.month, Date.now());
      const report = await withContext(({ storage }) => monthReport(storage.db, options.org, period));
      process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `${reportLines(report).join('\n')}\n`);
    });
}
