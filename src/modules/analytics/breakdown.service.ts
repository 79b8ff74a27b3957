/**
 * The breakdown: usage of a range per window and group, read from the rollups the plan
 * chooses (breakdown-plan.ts), summed exactly in nano-CHF, converted to CHF only here.
 */
import type { Static } from '@sinclair/typebox';
import { stringify } from 'csv-stringify/sync';
import { nanoToChf } from '../../money/chf.ts';
import { isoSeconds } from '../../time/calendar.ts';
import type { Counters } from '../../usage/counters.ts';
import { type AnalyticsContext, readAnalytics } from './analytics.reads.ts';
import { readGrouped, readTop } from './breakdown.repository.ts';
import type { BreakdownResponse } from './breakdown.schemas.ts';
import { type BreakdownRow, breakdownRows, breakdownTotals, type SpanRows } from './breakdown.ts';
import { planReads } from './breakdown-plan.ts';
import type { BreakdownQuery } from './breakdown-query.ts';

export type Breakdown = Static<typeof BreakdownResponse>;

export async function usageBreakdown(
  ctx: AnalyticsContext,
  organizationId: string,
  query: BreakdownQuery,
  now: number,
): Promise<Breakdown> {
  const reads = planReads(query);
  const { filters } = query;
  const args = [
    query.from,
    query.to,
    query.window,
    query.groupBy.join(','),
    JSON.stringify([filters.model, filters.apiKeyId, filters.endUser, filters.tag?.key, filters.tag?.value]),
    // A ranked read holds the groups of this limit only.
    reads.some((read) => read.top !== undefined) ? query.limit : 0,
  ];
  const spans = await readAnalytics(ctx, 'usage-breakdown', organizationId, args, (db) =>
    Promise.all(
      reads.map(
        async ({ main, base, tagPosition, top, all }): Promise<SpanRows> => ({
          grain: main.grain,
          main:
            top === undefined
              ? await readGrouped(db, organizationId, main)
              : await readTop(db, organizationId, main, top),
          ...(base ? { base: await readGrouped(db, organizationId, base), tagPosition } : {}),
          // After the ranked groups: counters only grow, so what they leave out is never below zero.
          ...(all ? { all: await readGrouped(db, organizationId, all) } : {}),
        }),
      ),
    ),
  );
  const rows = breakdownRows(query, spans);
  // Rows share their windows (a day's row per model): each bound is formatted once.
  const formatted = new Map<number, string>();
  const iso = (ms: number) => {
    let text = formatted.get(ms);
    if (text === undefined) {
      text = isoSeconds(ms);
      formatted.set(ms, text);
    }
    return text;
  };
  return {
    organization_id: organizationId,
    from: isoSeconds(query.from),
    to: isoSeconds(query.to),
    window: query.window,
    group_by: query.groupBy,
    rows: rows.map((row) => {
      const group: Record<string, string | null> = {};
      query.groupBy.forEach((name, i) => {
        group[name] = row.values[i] ?? null;
      });
      return {
        start: iso(row.start),
        end: iso(row.end),
        group,
        other: row.other,
        ...countersJson(row),
      };
    }),
    totals: countersJson(breakdownTotals(rows)),
    generated_at: isoSeconds(now),
  };
}

function countersJson(c: Counters) {
  return {
    requests: Number(c.requests),
    neurons: Number(c.neurons),
    cached_neurons: Number(c.cachedNeurons),
    cache_write_neurons: Number(c.cacheWriteNeurons),
    synapses: Number(c.synapses),
    reasoning_synapses: Number(c.reasoningSynapses),
    cost: nanoToChf(c.costNano),
  };
}

/** The rows as CSV: a header, then one line per row, group columns named as in group_by. */
export function breakdownCsv(breakdown: Breakdown): string {
  const counters = [
    'requests',
    'neurons',
    'cached_neurons',
    'cache_write_neurons',
    'synapses',
    'reasoning_synapses',
    'cost',
  ] as const;
  const header = ['start', 'end', ...breakdown.group_by, 'other', ...counters];
  const lines = breakdown.rows.map((row) => [
    row.start,
    row.end,
    ...breakdown.group_by.map((name) => row.group[name] ?? ''),
    row.other,
    ...counters.map((name) => (name === 'cost' ? row.cost.toFixed(6) : row[name])),
  ]);
  return stringify([header, ...lines], { cast: { boolean: (value) => String(value) } });
}

export type { BreakdownRow };
