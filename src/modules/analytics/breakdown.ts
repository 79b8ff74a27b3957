/**
 * The breakdown's rows from grouped rollup reads: summed per window and group, the usage
 * without a grouped tag derived as the rest of the usage, the `limit` groups with the highest
 * cost per window kept and the rest summed into one "other" row. Pure, exact in nano-CHF.
 */
import { addMonths, DAY_MS, HOUR_MS, yearMonthOf } from '../../time/calendar.ts';
import {
  addCounters,
  COUNTER_COLUMNS,
  type Counters,
  countersOf,
  emptyCounters,
  isZero,
} from '../../usage/counters.ts';
import { NO_API_KEY, NO_END_USER } from '../../usage/event.ts';
import { DAY, type Grain, HOUR } from '../../usage/rollups.ts';
import type { GroupedRow } from './breakdown.repository.ts';
import type { BreakdownQuery } from './breakdown-query.ts';

/** The reads of one span, as the service got them. */
export interface SpanRows {
  grain: Grain;
  main: GroupedRow[];
  base?: GroupedRow[];
  tagPosition?: number;
  /**
   * Set when `main` holds per bucket only the groups that can rank among the `limit` highest:
   * every group summed per bucket (no group values), so that the groups not read are the
   * difference.
   */
  all?: GroupedRow[];
}

export interface BreakdownRow extends Counters {
  start: number;
  end: number;
  /** One value per `group_by` dimension; null for the usage without one, and in the "other" row. */
  values: Array<string | null>;
  other: boolean;
}

/** A grouped row of one window, keyed by its group values. */
type Groups = Map<string, { values: Array<string | null>; counters: Counters }>;

/** The rows of the answer, ordered by window, then cost descending, and their totals. */
export function breakdownRows(query: BreakdownQuery, spans: readonly SpanRows[]): BreakdownRow[] {
  const main = new Map<number, Groups>();
  const base = new Map<number, Groups>();
  /** Per window, the groups a ranked read left out, summed: they rank below every group read. */
  const unread = new Map<number, Counters>();
  let tagPosition = -1;
  for (const span of spans) {
    for (const row of span.main)
      add(main, windowStart(query, span.grain, row.time), shownValues(query, row.values), row);
    if (span.all) addUnread(unread, query, span);
    if (span.base && span.tagPosition !== undefined) {
      tagPosition = span.tagPosition;
      const others = query.groupBy.filter((_, i) => i !== tagPosition);
      for (const row of span.base) {
        const values = shownValues({ groupBy: others }, row.values);
        add(base, windowStart(query, span.grain, row.time), values, row);
      }
    }
  }
  if (tagPosition >= 0) addUntagged(main, base, tagPosition, unread);
  const rows: BreakdownRow[] = [];
  for (const start of [...new Set([...main.keys(), ...unread.keys()])].sort((a, b) => a - b)) {
    const end = windowEnd(query, start);
    const groups = [...(main.get(start)?.values() ?? [])].filter((g) => !isZero(g.counters));
    groups.sort((a, b) => compareRows(a.counters, b.counters) || compareValues(a.values, b.values));
    const shown = groups
      .slice(0, query.limit)
      .map((g) => ({ start, end, values: g.values, other: false, ...g.counters }));
    const rest = groups.slice(query.limit);
    // Counters are never negative: what was left unread is some group's usage exactly when it is not zero.
    const left = unread.get(start);
    if (rest.length > 0 || (left && !isZero(left))) {
      const sum = emptyCounters();
      for (const g of rest) addCounters(sum, g.counters);
      if (left) addCounters(sum, left);
      const other = { start, end, values: query.groupBy.map(() => null), other: true, ...sum };
      const at = shown.findIndex((row) => compareRows(other, row) < 0);
      shown.splice(at < 0 ? shown.length : at, 0, other);
    }
    rows.push(...shown);
  }
  return rows;
}

/** Every row added up. */
export function breakdownTotals(rows: readonly Counters[]): Counters {
  const total = emptyCounters();
  for (const row of rows) addCounters(total, row);
  return total;
}

function add(into: Map<number, Groups>, start: number, values: Array<string | null>, counters: Counters): void {
  const groups = into.get(start) ?? new Map();
  into.set(start, groups);
  const id = JSON.stringify(values);
  const group = groups.get(id);
  // A group's first row is copied, not added to zeros: most groups have one row per window.
  if (group) addCounters(group.counters, counters);
  else groups.set(id, { values, counters: countersOf(counters) });
}

/**
 * The usage without the grouped tag: per window and other group values, what the base read
 * counted beyond the tag's rows. An event carries one value per tag key, so it is in at most
 * one of those rows and the difference is exact.
 */
function addUntagged(
  main: Map<number, Groups>,
  base: Map<number, Groups>,
  tagPosition: number,
  unread: ReadonlyMap<number, Counters>,
): void {
  for (const [start, groups] of base) {
    const tagged = new Map<string, Counters>();
    for (const group of main.get(start)?.values() ?? []) {
      const id = JSON.stringify(group.values.filter((_, i) => i !== tagPosition));
      const sum = tagged.get(id) ?? emptyCounters();
      addCounters(sum, group.counters);
      tagged.set(id, sum);
    }
    // A ranked read groups by the tag alone: the values it left out have no other group values.
    const left = unread.get(start);
    if (left) {
      const sum = tagged.get('[]') ?? emptyCounters();
      addCounters(sum, left);
      tagged.set('[]', sum);
    }
    for (const { values, counters } of groups.values()) {
      const rest = { ...counters };
      const sum = tagged.get(JSON.stringify(values));
      if (sum) subtract(rest, sum);
      if (isZero(rest)) continue;
      const withTag = [...values];
      withTag.splice(tagPosition, 0, null);
      add(main, start, withTag, rest);
    }
  }
}

/** Per window, every group of a ranked read summed, less the groups it read. */
function addUnread(unread: Map<number, Counters>, query: BreakdownQuery, span: SpanRows): void {
  for (const row of span.all ?? []) {
    const start = windowStart(query, span.grain, row.time);
    const sum = unread.get(start) ?? emptyCounters();
    addCounters(sum, row);
    unread.set(start, sum);
  }
  for (const row of span.main) {
    const start = windowStart(query, span.grain, row.time);
    const sum = unread.get(start) ?? emptyCounters();
    subtract(sum, row);
    unread.set(start, sum);
  }
}

const COUNTER_KEYS = Object.keys(COUNTER_COLUMNS) as Array<keyof Counters>;

function subtract(from: Counters, counters: Counters): void {
  for (const key of COUNTER_KEYS) from[key] -= counters[key];
}

/** Group values as the answer shows them: usage without a key or an end user has null. */
function shownValues(query: Pick<BreakdownQuery, 'groupBy'>, values: readonly string[]): Array<string | null> {
  return values.map((value, i) => {
    const dimension = query.groupBy[i];
    if (dimension === 'api_key' && value === NO_API_KEY) return null;
    if (dimension === 'end_user' && value === NO_END_USER) return null;
    return value;
  });
}

/** Higher cost first, then more requests. */
function compareRows(a: Counters, b: Counters): number {
  if (a.costNano !== b.costNano) return a.costNano > b.costNano ? -1 : 1;
  if (a.requests !== b.requests) return a.requests > b.requests ? -1 : 1;
  return 0;
}

/** Group values in ascending order (by code unit), a null value last. */
function compareValues(a: ReadonlyArray<string | null>, b: ReadonlyArray<string | null>): number {
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i], b[i]];
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    return x! < y! ? -1 : 1;
  }
  return 0;
}

/** The start of the window holding the bucket `key` of `grain`. */
function windowStart(query: BreakdownQuery, grain: Grain, key: number): number {
  if (query.window === 'all') return query.from;
  if (grain === HOUR) return key * HOUR_MS;
  if (grain === DAY) return Date.UTC(Math.floor(key / 10_000), (Math.floor(key / 100) % 100) - 1, key % 100);
  return Date.UTC(Math.floor(key / 100), (key % 100) - 1, 1);
}

function windowEnd(query: BreakdownQuery, start: number): number {
  switch (query.window) {
    case 'hour':
      return start + HOUR_MS;
    case 'day':
      return start + DAY_MS;
    case 'month': {
      const next = addMonths(yearMonthOf(start), 1);
      return Date.UTC(next.year, next.month - 1, 1);
    }
    default:
      return query.to;
  }
}
