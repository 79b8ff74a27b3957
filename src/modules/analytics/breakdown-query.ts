/**
 * The breakdown's question, checked and normalized: the range and its windows, what to group by
 * and what to keep. Pure; every rule that makes a request a 400 lives here.
 */
import { type FieldError, invalidRequest } from '../../errors.ts';
import { addMonths, DAY_MS, HOUR_MS, type YearMonth, yearMonthOf } from '../../time/calendar.ts';

export const WINDOWS = ['hour', 'day', 'month', 'all'] as const;
export type BreakdownWindow = (typeof WINDOWS)[number];

export const DEFAULT_LIMIT = 100;
export const MAX_HOUR_RANGE_DAYS = 31;
export const MAX_RANGE_YEARS = 5;
/** The earliest and latest times a range may name: events are dated from 2000 on. */
const EARLIEST_MS = Date.UTC(2000, 0, 1);
const LATEST_MS = Date.UTC(2101, 0, 1);

export const TAG_KEY_PATTERN = /^[a-z][a-z0-9_.-]{0,63}$/;
/** The query parameters that filter by one tag: `tag.<key>=<value>`. */
export const TAG_FILTER_PREFIX = 'tag.';

/** What a row can be grouped by; a tag's key follows `tag:`. */
export type GroupDimension = 'model' | 'api_key' | 'end_user' | `tag:${string}`;

export interface BreakdownFilters {
  model?: string;
  /** `''` keeps the usage without a key (`api_key_id=none`). */
  apiKeyId?: string;
  endUser?: string;
  tag?: { key: string; value: string };
}

export interface BreakdownQuery {
  /** Epoch ms, `to` exclusive. */
  from: number;
  to: number;
  window: BreakdownWindow;
  groupBy: GroupDimension[];
  filters: BreakdownFilters;
  limit: number;
}

/** The query string as the route's schema validated it. */
export interface BreakdownParams {
  from?: string;
  to?: string;
  window?: BreakdownWindow;
  group_by?: string;
  model?: string;
  api_key_id?: string;
  end_user?: string;
  limit?: number;
  [parameter: string]: unknown;
}

/** Checks the request; throws INVALID_REQUEST naming each bad parameter. */
export function breakdownQuery(params: BreakdownParams, now: number): BreakdownQuery {
  const errors: FieldError[] = [];
  const window = params.window ?? 'day';
  const month = yearMonthOf(now);
  const from = params.from === undefined ? monthStart(month) : parseTime(params.from);
  const to = params.to === undefined ? monthStart(addMonths(month, 1)) : parseTime(params.to);
  if (Number.isNaN(from)) errors.push({ field: 'from', reason: 'must be a UTC date (YYYY-MM-DD) or an ISO-8601 time' });
  if (Number.isNaN(to)) errors.push({ field: 'to', reason: 'must be a UTC date (YYYY-MM-DD) or an ISO-8601 time' });
  if (errors.length === 0) errors.push(...rangeErrors(from, to, window));
  const groupBy = parseGroupBy(params.group_by ?? '', errors);
  const filters = parseFilters(params, errors);
  if (errors.length > 0) throw invalidRequest('Invalid query parameters', errors);
  return { from, to, window, groupBy, filters, limit: params.limit ?? DEFAULT_LIMIT };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** Epoch ms of a date (its UTC midnight) or a time with its offset; NaN for anything else. */
export function parseTime(text: string): number {
  if (DATE.test(text)) {
    const ms = Date.parse(`${text}T00:00:00Z`);
    // Date.parse rolls 2026-02-30 over into March; such a date is no date.
    return !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(text) ? ms : Number.NaN;
  }
  return TIME.test(text) ? Date.parse(text) : Number.NaN;
}

function monthStart({ year, month }: YearMonth): number {
  return Date.UTC(year, month - 1, 1);
}

/** Whether `ms` starts a window of this kind; `all` starts and ends on whole hours, the finest grain. */
export function isWindowEdge(ms: number, window: BreakdownWindow): boolean {
  switch (window) {
    case 'month':
      return ms === monthStart(yearMonthOf(ms));
    case 'day':
      return ms % DAY_MS === 0;
    default:
      return ms % HOUR_MS === 0;
  }
}

function rangeErrors(from: number, to: number, window: BreakdownWindow): FieldError[] {
  const errors: FieldError[] = [];
  const unit = window === 'all' ? 'hour' : window;
  for (const [field, ms] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (ms < EARLIEST_MS || ms > LATEST_MS) errors.push({ field, reason: 'must be from 2000-01-01 to 2101-01-01' });
    else if (!isWindowEdge(ms, window))
      errors.push({ field, reason: `must be the start of a UTC ${unit} for window=${window}` });
  }
  if (errors.length > 0) return errors;
  if (to <= from) return [{ field: 'to', reason: 'must be after from' }];
  if (window === 'hour' && to - from > MAX_HOUR_RANGE_DAYS * DAY_MS) {
    return [{ field: 'to', reason: `must be at most ${MAX_HOUR_RANGE_DAYS} days after from for window=hour` }];
  }
  const start = new Date(from);
  const latest = Date.UTC(
    start.getUTCFullYear() + MAX_RANGE_YEARS,
    start.getUTCMonth(),
    start.getUTCDate(),
    start.getUTCHours(),
  );
  if (to > latest) return [{ field: 'to', reason: `must be at most ${MAX_RANGE_YEARS} years after from` }];
  return [];
}

const SIMPLE_DIMENSIONS = ['model', 'api_key', 'end_user'] as const;
export const MAX_GROUP_BY = 2;

function parseGroupBy(text: string, errors: FieldError[]): GroupDimension[] {
  if (text === '') return [];
  const names = text.split(',');
  const bad = names.find(
    (name) =>
      !(SIMPLE_DIMENSIONS as readonly string[]).includes(name) &&
      !(name.startsWith('tag:') && TAG_KEY_PATTERN.test(name.slice(4))),
  );
  if (bad !== undefined) {
    errors.push({
      field: 'group_by',
      reason: `has ${JSON.stringify(bad)}; each must be model, api_key, end_user or tag:<key> (key as ^[a-z][a-z0-9_.-]{0,63}$)`,
    });
    return [];
  }
  if (names.length > MAX_GROUP_BY)
    errors.push({ field: 'group_by', reason: `must name at most ${MAX_GROUP_BY} dimensions` });
  else if (new Set(names).size < names.length)
    errors.push({ field: 'group_by', reason: 'must not name a dimension twice' });
  return names as GroupDimension[];
}

function parseFilters(params: BreakdownParams, errors: FieldError[]): BreakdownFilters {
  const filters: BreakdownFilters = {};
  if (params.model !== undefined) filters.model = params.model;
  if (params.api_key_id !== undefined) filters.apiKeyId = params.api_key_id === 'none' ? '' : params.api_key_id;
  if (params.end_user !== undefined) filters.endUser = params.end_user;
  const tags = Object.keys(params).filter((name) => name.startsWith(TAG_FILTER_PREFIX));
  if (tags.length > 1) errors.push({ field: 'tag', reason: 'only one tag.<key>=<value> filter is allowed' });
  for (const name of tags) {
    const key = name.slice(TAG_FILTER_PREFIX.length);
    const value = params[name];
    if (!TAG_KEY_PATTERN.test(key)) {
      errors.push({ field: name, reason: 'names a tag key that does not match ^[a-z][a-z0-9_.-]{0,63}$' });
    } else if (typeof value !== 'string' || value.length === 0 || [...value].length > 256) {
      errors.push({ field: name, reason: 'must be one value of 1–256 characters' });
    } else {
      filters.tag = { key, value };
    }
  }
  return filters;
}
