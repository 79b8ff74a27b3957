/**
 * The rollups: counters summed at the grain one family of queries needs, so that no query
 * reads raw events. Each rollup is described once, here, as data: the engines' batch writers,
 * the rebuild from raw events, `verify` and the table types all go through ROLLUPS. A new
 * grain is an entry here, a migration that creates its table, and the query that reads it.
 */
import type { ColumnType } from 'kysely';
import {
  DAY_MS,
  dayKeyOf,
  dayKeyRange,
  HOUR_MS,
  hourKeyOf,
  hourKeyRange,
  monthKey,
  monthKeyOf,
  type YearMonth,
} from '../time/calendar.ts';
import { COUNTER_COLUMNS, type CounterColumn, type Counters } from './counters.ts';
import { NO_API_KEY, NO_END_USER, type UsageEvent } from './event.ts';

/** The time buckets of a rollup, keyed by integers that sort and range-scan alike on both engines. */
export interface Grain {
  /** The rollup column holding the bucket's key. */
  column: 'month' | 'day' | 'hour';
  /** The key of the bucket that holds `ms`: yyyymm, yyyymmdd, hours since the epoch. */
  keyOf(ms: number): number;
  /** The key is the same for every time in an aligned span of this many ms (a UTC day for a month). */
  steadyMs: number;
  /** The first and last key of the buckets inside one UTC month. */
  keysOfMonth(month: YearMonth): [number, number];
  /** The month (yyyymm) of a bucket's key. */
  monthOfKey(key: number): number;
  /**
   * SQL computing the key from `occurred_at` for events of one month, in integer arithmetic
   * both engines do alike (epoch time has no leap seconds). Literals only: PostgreSQL must see
   * the same expression in SELECT and GROUP BY.
   */
  keySql(month: YearMonth): string;
}

export const MONTH = {
  column: 'month',
  keyOf: monthKeyOf,
  steadyMs: DAY_MS,
  keysOfMonth: (month) => [monthKey(month), monthKey(month)],
  monthOfKey: (key) => key,
  keySql: (month) => String(monthKey(month)),
} as const satisfies Grain;

export const DAY = {
  column: 'day',
  keyOf: dayKeyOf,
  steadyMs: DAY_MS,
  keysOfMonth: dayKeyRange,
  monthOfKey: (key) => Math.floor(key / 100),
  keySql: (month) =>
    `(occurred_at - ${Date.UTC(month.year, month.month - 1, 1)}) / ${DAY_MS} + ${monthKey(month) * 100 + 1}`,
} as const satisfies Grain;

export const HOUR = {
  column: 'hour',
  keyOf: hourKeyOf,
  steadyMs: HOUR_MS,
  keysOfMonth: hourKeyRange,
  monthOfKey: (key) => monthKeyOf(key * HOUR_MS),
  // Events are dated from 2000 on, so truncating division is the floor hourKeyOf takes.
  keySql: () => `occurred_at / ${HOUR_MS}`,
} as const satisfies Grain;

/** One of an event's tags, `[key, value]`: a rollup that expands tags counts the event once per tag. */
export type TagEntry = readonly [string, string];

/** A key column of a rollup besides the organization and the time bucket. */
export interface Dimension {
  column: 'api_key_id' | 'model' | 'end_user' | 'tag_key' | 'tag_value';
  /**
   * The event's value; never null, as primary keys cannot hold null. `tag` is the tag being
   * counted, in a rollup that expands tags.
   */
  of(event: UsageEvent, tag?: TagEntry): string;
  /**
   * The same value in SQL over the columns of `usage_events`, and in a rollup that expands tags
   * over `tag.key` and `tag.value` (see TAG_ENTRIES_SQL).
   */
  sql: string;
}

export const MODEL = { column: 'model', of: (e) => e.model, sql: 'model' } as const satisfies Dimension;

export const API_KEY = {
  column: 'api_key_id',
  of: (e) => e.apiKeyId ?? NO_API_KEY,
  sql: `coalesce(api_key_id, '${NO_API_KEY}')`,
} as const satisfies Dimension;

/** The end user who caused the request; `''` for events that name none. */
export const END_USER = {
  column: 'end_user',
  of: (e) => e.endUser ?? NO_END_USER,
  sql: `coalesce(end_user, '${NO_END_USER}')`,
} as const satisfies Dimension;

/** The key of the tag counted (a rollup with `expand: 'tags'`). */
export const TAG_KEY = { column: 'tag_key', of: (_, tag) => tag![0], sql: 'tag.key' } as const satisfies Dimension;

/** The value of the tag counted (a rollup with `expand: 'tags'`). */
export const TAG_VALUE = {
  column: 'tag_value',
  of: (_, tag) => tag![1],
  sql: 'tag.value',
} as const satisfies Dimension;

/**
 * The FROM item that expands a row's tags (canonical JSON text in `<source>.tags`) into one row
 * per tag, with the columns `key` and `value` (the rollups name it `tag`). `tag_entries` is a table-valued
 * function of both engines: SQLite's is registered on every connection (storage/sqlite/
 * connection.ts), PostgreSQL's is created by a migration; an event without tags yields no row.
 */
export function tagEntriesSql(source: string): string {
  return `tag_entries(${source}.tags)`;
}

export interface RollupDescriptor {
  table: string;
  grain: Grain;
  /** Key columns after `organization_id` and the grain's column, in primary-key order. */
  dimensions: readonly Dimension[];
  /** Which events count: all of them, or only those made with an API key (programmatic usage). */
  counts: 'all' | 'with_api_key';
  /** `tags`: the event counts once per tag it carries (none without tags), its tag as TAG_KEY, TAG_VALUE. */
  expand?: 'tags';
  /**
   * The table has an index on the organization, the bucket, the dimensions before the last
   * one and `cost_nano`, so that the groups of a bucket with the highest cost are read from
   * that index without reading the others (the breakdown's top N).
   */
  rankedByCost?: true;
}

/**
 * Every rollup, in the order batches write them. Every writer writes them in this order, each in
 * key order, so concurrent batches lock rows in one order and cannot deadlock one another. The
 * organization's month comes last: every batch of an organization shares that row, so it is
 * held for the shortest time, and its CHECK constraints (the monthly maximum, see
 * modules/ingestion/month-limits.ts) fail the whole write past a bound.
 */
export const ROLLUPS = [
  /** All usage per key (`''` for the web app) and day: the daily series. */
  { table: 'rollup_key_day', grain: DAY, dimensions: [API_KEY], counts: 'all' },
  /** Programmatic usage per key, model and month: the key routes, limits and the budget check. */
  { table: 'rollup_key_model_month', grain: MONTH, dimensions: [API_KEY, MODEL], counts: 'with_api_key' },
  /** All usage per model and month: the usage summary, top models, monthly and yearly series. */
  { table: 'rollup_org_model_month', grain: MONTH, dimensions: [MODEL], counts: 'all' },
  /** All usage per hour: the hourly usage, the weekly heatmap. */
  { table: 'rollup_org_hour', grain: HOUR, dimensions: [], counts: 'all' },
  /** All usage per day: the weekday and weekend days of the trends. */
  { table: 'rollup_org_day', grain: DAY, dimensions: [], counts: 'all' },
  /** Usage per model and key (`''` for the web app), per hour, day and month: the breakdown. */
  { table: 'rollup_model_key_hour', grain: HOUR, dimensions: [MODEL, API_KEY], counts: 'all' },
  { table: 'rollup_model_key_day', grain: DAY, dimensions: [MODEL, API_KEY], counts: 'all' },
  { table: 'rollup_model_key_month', grain: MONTH, dimensions: [MODEL, API_KEY], counts: 'all' },
  /** Usage per model and end user (`''` for none), per hour, day and month: the breakdown. */
  { table: 'rollup_model_user_hour', grain: HOUR, dimensions: [MODEL, END_USER], counts: 'all' },
  { table: 'rollup_model_user_day', grain: DAY, dimensions: [MODEL, END_USER], counts: 'all' },
  { table: 'rollup_model_user_month', grain: MONTH, dimensions: [MODEL, END_USER], counts: 'all' },
  /** Usage per model and tag, per hour, day and month: an event counts once per tag it carries. */
  {
    table: 'rollup_model_tag_hour',
    grain: HOUR,
    dimensions: [MODEL, TAG_KEY, TAG_VALUE],
    counts: 'all',
    expand: 'tags',
  },
  { table: 'rollup_model_tag_day', grain: DAY, dimensions: [MODEL, TAG_KEY, TAG_VALUE], counts: 'all', expand: 'tags' },
  {
    table: 'rollup_model_tag_month',
    grain: MONTH,
    dimensions: [MODEL, TAG_KEY, TAG_VALUE],
    counts: 'all',
    expand: 'tags',
  },
  /** All usage per model and day: the breakdown by day and model. */
  { table: 'rollup_org_model_day', grain: DAY, dimensions: [MODEL], counts: 'all' },
  /** Usage per end user and month, ranked by cost: the breakdown's top end users of a month. */
  { table: 'rollup_user_month', grain: MONTH, dimensions: [END_USER], counts: 'all', rankedByCost: true },
  /** Usage per tag and month, ranked by cost within a tag key: the breakdown's top values of a tag. */
  {
    table: 'rollup_tag_month',
    grain: MONTH,
    dimensions: [TAG_KEY, TAG_VALUE],
    counts: 'all',
    expand: 'tags',
    rankedByCost: true,
  },
  /** Usage per tag key and month: every value of a tag together, so the top values' rest is a difference. */
  { table: 'rollup_tag_key_month', grain: MONTH, dimensions: [TAG_KEY], counts: 'all', expand: 'tags' },
  /** All usage per month: the organization's total, which holds the monthly maximum. */
  { table: 'rollup_org_month', grain: MONTH, dimensions: [], counts: 'all' },
] as const satisfies readonly RollupDescriptor[];

export type Rollup = (typeof ROLLUPS)[number];
export type RollupTable = Rollup['table'];

/** The primary key of a rollup: organization, time bucket, then its dimensions. */
export function keyColumns(rollup: RollupDescriptor): string[] {
  return ['organization_id', rollup.grain.column, ...rollup.dimensions.map((d) => d.column)];
}

/** The counter columns, in the order every rollup table declares them. */
export const COUNTER_COLUMN_LIST: readonly CounterColumn[] = Object.values(COUNTER_COLUMNS);

export function countsEvent(rollup: RollupDescriptor, event: UsageEvent): boolean {
  return rollup.counts === 'all' || event.apiKeyId !== null;
}

/** Whether the rollup counts an event once per tag it carries. */
export function expandsTags(rollup: RollupDescriptor): boolean {
  return rollup.expand === 'tags';
}

/** The FROM clause over `source` (a table or CTE with the columns of `usage_events`) that a rollup groups. */
export function rollupSourceSql(rollup: RollupDescriptor, source: string): string {
  return rollup.expand === 'tags' ? `${source}, ${tagEntriesSql(source)} as tag` : source;
}

/** SQL over `usage_events` that keeps the events a rollup counts, or undefined when it counts all. */
export function countsSql(rollup: RollupDescriptor): string | undefined {
  return rollup.counts === 'all' ? undefined : 'api_key_id is not null';
}

type Int64 = ColumnType<bigint, bigint | number, bigint | number>;
/** A counter column added after its table: 0 unless an insert says otherwise. */
type DefaultedInt64 = ColumnType<bigint, bigint | number | undefined, bigint | number>;
type PartColumn = 'cached_neurons' | 'cache_write_neurons' | 'reasoning_synapses';

/** A rollup table's row type, derived from its descriptor (storage/schema.ts lists them). */
export type RollupRowOf<R extends RollupDescriptor> = { organization_id: string } & {
  [C in R['grain']['column']]: number;
} & { [C in R['dimensions'][number]['column']]: string } & {
  [C in CounterColumn]: C extends PartColumn ? DefaultedInt64 : Int64;
};

/** One row of a rollup with its counters: a batch's increment, a stored row or a recomputed one. */
export interface RollupRow extends Counters {
  organizationId: string;
  /** The grain's key: yyyymm, yyyymmdd, hours since the epoch. */
  time: number;
  /** One value per dimension, in the descriptor's order. */
  values: string[];
}

/** Rows per rollup, in the order of ROLLUPS. */
export type RollupRows = ReadonlyArray<{ rollup: RollupDescriptor; rows: RollupRow[] }>;

/** The row's key as one text (for maps and comparisons): `org_a/202511/gpt-4o`. */
export function rowKey(row: Pick<RollupRow, 'organizationId' | 'time' | 'values'>): string {
  return [row.organizationId, row.time, ...row.values].join('/');
}
