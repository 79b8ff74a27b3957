/**
 * Which rollups answer a breakdown: the range split into spans of the coarsest grain that
 * serves the windows, and for each span the smallest rollup whose dimensions hold what the
 * query groups and filters by. Chosen from the descriptors (usage/rollups.ts), so a new grain
 * serves the breakdown as soon as it is listed there.
 */
import { invalidRequest } from '../../errors.ts';
import { DAY_MS, HOUR_MS, yearMonthOf } from '../../time/calendar.ts';
import { DAY, type Grain, HOUR, MONTH, ROLLUPS, type RollupDescriptor } from '../../usage/rollups.ts';
import type { BreakdownQuery, GroupDimension } from './breakdown-query.ts';

/** A span of buckets of one grain, keys `first` to `last`, both included. */
export interface Span {
  grain: Grain;
  first: number;
  last: number;
}

/** One grouped read of one rollup over a span. */
export interface RollupRead extends Span {
  table: string;
  /** Columns grouped by after the time key, one per dimension of the query (a tag: `tag_value`). */
  groupColumns: string[];
  /** Column = value conditions, besides the organization and the span. */
  where: Array<[string, string]>;
  /**
   * Whether each group is one row of the rollup (its key is grouped or fixed by `where`
   * column by column), so that the rows are read as they are, without summing.
   */
  rowPerGroup: boolean;
}

/**
 * The reads of one span. For a query grouped by a tag without a filter on it, `base` reads the
 * same usage without the tag dimension: what it has beyond the tag's rows is the usage without
 * that tag, the group with a null value.
 */
export interface SpanReads {
  main: RollupRead;
  base?: RollupRead;
  /** Position of the tag in `groupBy` that `base` leaves out. */
  tagPosition?: number;
  /**
   * Set when `main` is to be read ranked: per bucket only the groups that can be among the
   * `limit` highest (every group tied in cost with the last of those included), so that the
   * read does not grow with the number of groups.
   */
  top?: number;
  /** With `top`: every group of `main` summed per bucket, so the groups left out are the difference. */
  all?: RollupRead;
}

type Column = 'model' | 'api_key_id' | 'end_user' | 'tag_key' | 'tag_value';

function columnsOf(dimension: GroupDimension): Column[] {
  if (dimension === 'api_key') return ['api_key_id'];
  if (dimension === 'model' || dimension === 'end_user') return [dimension];
  return ['tag_key', 'tag_value'];
}

/** The rollups a breakdown may read: those that count all usage. */
const CANDIDATES: readonly RollupDescriptor[] = ROLLUPS.filter((rollup) => rollup.counts === 'all');

/** The smallest rollup of `grain` with every column needed, or undefined when none has them. */
function rollupFor(grain: Grain, needed: readonly Column[]): RollupDescriptor | undefined {
  return CANDIDATES.filter(
    (rollup) => rollup.grain === grain && needed.every((c) => rollup.dimensions.some((d) => d.column === c)),
  ).sort((a, b) => a.dimensions.length - b.dimensions.length)[0];
}

/** The group_by combinations the rollups of every grain serve, as a 400 names them. */
export function servedCombinations(): string[] {
  const names = (rollup: RollupDescriptor) =>
    rollup.dimensions.flatMap((d) =>
      d.column === 'tag_value'
        ? []
        : [d.column === 'tag_key' ? 'tag:<key>' : d.column === 'api_key_id' ? 'api_key' : d.column],
    );
  const served = new Set<string>();
  for (const grain of [HOUR, DAY, MONTH]) {
    for (const rollup of CANDIDATES.filter((r) => r.grain === grain)) {
      const dims = names(rollup);
      dims.forEach((a, i) => {
        served.add(a);
        for (const b of dims.slice(i + 1)) served.add(`${a},${b}`);
      });
    }
  }
  // Keep those every grain serves: the same answer whatever the window.
  return [...served].filter((combination) => {
    const dims = combination.split(',').map((n) => (n === 'tag:<key>' ? 'tag:x' : n)) as GroupDimension[];
    return [HOUR, DAY, MONTH].every((grain) => rollupFor(grain, dims.flatMap(columnsOf)) !== undefined);
  });
}

/** What the query groups and filters by, as rollup columns, with their conditions. */
function neededColumns(query: BreakdownQuery): { columns: Column[]; where: Array<[string, string]> } {
  const { filters } = query;
  const where: Array<[string, string]> = [];
  if (filters.model !== undefined) where.push(['model', filters.model]);
  if (filters.apiKeyId !== undefined) where.push(['api_key_id', filters.apiKeyId]);
  if (filters.endUser !== undefined) where.push(['end_user', filters.endUser]);
  const groupedTag = query.groupBy.find((d) => d.startsWith('tag:'))?.slice(4);
  if (filters.tag) {
    if (groupedTag !== undefined && groupedTag !== filters.tag.key) throw unserved(query);
    where.push(['tag_key', filters.tag.key], ['tag_value', filters.tag.value]);
  } else if (groupedTag !== undefined) {
    where.push(['tag_key', groupedTag]);
  }
  const columns = new Set<Column>(query.groupBy.flatMap(columnsOf));
  for (const [column] of where) columns.add(column as Column);
  return { columns: [...columns], where };
}

function unserved(query: BreakdownQuery) {
  const served = servedCombinations().join(' | ');
  const asked = [...query.groupBy, ...Object.keys(query.filters).map((f) => `${f} filter`)].join(', ');
  return invalidRequest('Invalid query parameters', [
    {
      field: 'group_by',
      reason: `with these filters (${asked}) is not served; served group_by combinations: ${served} (a filter counts as one more dimension; one tag key at a time)`,
    },
  ]);
}

/** The reads that answer the query, one group per span; throws INVALID_REQUEST for a combination no rollup serves. */
export function planReads(query: BreakdownQuery): SpanReads[] {
  const { columns, where } = neededColumns(query);
  const groupColumns = query.groupBy.map((d) => columnsOf(d).at(-1)!);
  const tagPosition = query.groupBy.findIndex((d) => d.startsWith('tag:'));
  const withBase = tagPosition >= 0 && !query.filters.tag;
  return spans(query).map((span): SpanReads => {
    const rollup = rollupFor(span.grain, columns);
    if (!rollup) throw unserved(query);
    const main = rollupRead(span, rollup, groupColumns, where);
    const ranked = rankedReads(query, rollup, main, columns);
    if (!withBase) return { main, ...ranked };
    const baseColumns = columns.filter((c) => c !== 'tag_key' && c !== 'tag_value');
    const baseRollup = rollupFor(span.grain, baseColumns);
    if (!baseRollup) throw unserved(query);
    return {
      main,
      base: rollupRead(
        span,
        baseRollup,
        groupColumns.filter((_, i) => i !== tagPosition),
        where.filter(([c]) => c !== 'tag_key'),
      ),
      tagPosition,
      ...ranked,
    };
  });
}

/**
 * The ranked read of a month's top end users or tag values, when the query groups by that one
 * dimension without filters and the rollup is indexed by cost; otherwise nothing (every group is
 * read). The sum of every group comes from the rollup without the grouped column: the
 * organization's month, or the tag key's.
 */
function rankedReads(
  query: BreakdownQuery,
  rollup: RollupDescriptor,
  main: RollupRead,
  columns: readonly Column[],
): Pick<SpanReads, 'top' | 'all'> {
  const filtered = Object.values(query.filters).some((value) => value !== undefined);
  if (query.window !== 'month' || query.groupBy.length !== 1 || filtered || !rollup.rankedByCost) return {};
  const grouped = main.groupColumns[0]!;
  const rest = rollupFor(
    main.grain,
    columns.filter((c) => c !== grouped),
  );
  if (!rest) return {};
  return { top: query.limit, all: rollupRead(main, rest, [], main.where) };
}

function rollupRead(
  span: Span,
  rollup: RollupDescriptor,
  groupColumns: string[],
  where: Array<[string, string]>,
): RollupRead {
  const rowPerGroup = rollup.dimensions.every(
    ({ column }) => groupColumns.includes(column) || where.some(([fixed]) => fixed === column),
  );
  return {
    grain: span.grain,
    first: span.first,
    last: span.last,
    table: rollup.table,
    groupColumns,
    where,
    rowPerGroup,
  };
}

/**
 * The range as spans of rollup buckets. A window of an hour, a day or a month reads that grain;
 * `all` reads whole months where it can, whole days at the edges of those, and hours at the
 * edges of the days, so that a range of years reads its months.
 */
export function spans(query: BreakdownQuery): Span[] {
  const grain = { hour: HOUR, day: DAY, month: MONTH }[query.window as 'hour'];
  if (grain) return [span(grain, query.from, query.to)];
  return split(query.from, query.to, 0);
}

const LEVELS = [MONTH, DAY, HOUR] as const;

function split(from: number, to: number, level: number): Span[] {
  if (from >= to) return [];
  const grain = LEVELS[level]!;
  if (grain === HOUR) return [span(HOUR, from, to)];
  const start = ceilTo(grain, from);
  const end = floorTo(grain, to);
  if (start >= end) return split(from, to, level + 1);
  return [...split(from, start, level + 1), span(grain, start, end), ...split(end, to, level + 1)];
}

function span(grain: Grain, from: number, to: number): Span {
  return { grain, first: grain.keyOf(from), last: grain.keyOf(to - 1) };
}

function floorTo(grain: Grain, ms: number): number {
  if (grain === DAY) return ms - (ms % DAY_MS);
  if (grain === HOUR) return ms - (ms % HOUR_MS);
  const { year, month } = yearMonthOf(ms);
  return Date.UTC(year, month - 1, 1);
}

function ceilTo(grain: Grain, ms: number): number {
  const floor = floorTo(grain, ms);
  if (floor === ms) return ms;
  if (grain === MONTH) {
    const { year, month } = yearMonthOf(ms);
    return Date.UTC(year, month, 1);
  }
  return floor + grain.steadyMs;
}
