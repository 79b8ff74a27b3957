/**
 * `freddy-analytics report --org ORG [--month YYYY-MM]`: one month of usage as tables in the
 * terminal (totals, models, API keys with budget status), or one JSON object with --json.
 * `--by model|api_key|end_user|tag:<key>`: the month's breakdown by that dimension instead.
 */
import type { Command } from 'commander';
import { AppError } from '../errors.ts';
import { type Breakdown, usageBreakdown } from '../modules/analytics/breakdown.service.ts';
import { breakdownQuery } from '../modules/analytics/breakdown-query.ts';
import { type MonthReport, monthReport } from '../modules/analytics/month-report.ts';
import { addMonths, isoDateOf, type YearMonth, yearMonthOf } from '../time/calendar.ts';
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

/** Groups a `--by` report shows; the rest is one "other" line. */
export const REPORT_BY_LIMIT = 20;

/** The month's breakdown by one dimension as a table: each group, its share of the cost, the totals. */
export function breakdownLines(breakdown: Breakdown, organizationId: string, month: string): string[] {
  const by = breakdown.group_by[0]!;
  const total = breakdown.totals;
  const share = (cost: number) => (total.cost > 0 ? `${((cost / total.cost) * 100).toFixed(2)} %` : '-');
  const name = (row: Breakdown['rows'][number]) => (row.other ? '(other)' : (row.group[by] ?? '(none)'));
  const line = (label: string, c: typeof total) => [
    label,
    count(c.requests),
    count(c.neurons),
    count(c.cached_neurons),
    count(c.synapses),
    chf(c.cost),
    share(c.cost),
  ];
  const lines = [`Usage of ${organizationId} in ${month} (UTC) by ${by}`, ''];
  if (breakdown.rows.length === 0) return [...lines, 'No usage in this month.'];
  return [
    ...lines,
    ...table(
      [by, 'Requests', 'Neurons', 'Cached', 'Synapses', 'Cost (CHF)', 'Share'],
      [...breakdown.rows.map((row) => line(name(row), row)), line('Total', total)],
      [false, true, true, true, true, true, true],
    ),
  ];
}

export function reportCommand(program: Command): void {
  program
    .command('report')
    .description("Show an organization's usage of one UTC month: totals, models, API keys and their budgets")
    .requiredOption('--org <org_id>', 'organization')
    .option('--month <YYYY-MM>', 'the month (default: the current UTC month)')
    .option('--by <dimension>', 'the month by model, api_key, end_user or tag:<key> instead')
    .option('--json', 'print one JSON object')
    .action(async (options: { org: string; month?: string; by?: string; json?: boolean }) => {
      const now = Date.now();
      const period = parseMonth(options.month, now);
      if (options.by !== undefined) {
        const next = addMonths(period, 1);
        const query = breakdownQuery(
          {
            from: isoDateOf(Date.UTC(period.year, period.month - 1, 1)),
            to: isoDateOf(Date.UTC(next.year, next.month - 1, 1)),
            window: 'month',
            group_by: options.by,
            limit: REPORT_BY_LIMIT,
          },
          now,
        );
        if (query.groupBy.length !== 1) {
          throw new AppError('INVALID_REQUEST', {
            systemMessage: '--by must name one of model, api_key, end_user, tag:<key>',
          });
        }
        const breakdown = await withContext((ctx) => usageBreakdown(ctx, options.org, query, now));
        const month = `${period.year}-${String(period.month).padStart(2, '0')}`;
        process.stdout.write(
          options.json
            ? `${JSON.stringify(breakdown)}\n`
            : `${breakdownLines(breakdown, options.org, month).join('\n')}\n`,
        );
        return;
      }
      const report = await withContext(({ storage }) => monthReport(storage.db, options.org, period));
      process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `${reportLines(report).join('\n')}\n`);
    });
}
