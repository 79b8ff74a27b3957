/**
 * The SQL that adds rows to a rollup, built from its descriptor (usage/rollups.ts), so that the
 * SQLite writer, the PostgreSQL batch statement and the rebuild write every rollup alike.
 */
import type { CounterColumn } from '../usage/counters.ts';
import { COUNTER_COLUMN_LIST, keyColumns, type RollupDescriptor, rollupSourceSql } from '../usage/rollups.ts';

/**
 * The SQL around a row source that adds its rows to a rollup: `insert into <table> (…)` before
 * it, and after it `on conflict (<key>) do update set` each counter to the stored one plus the
 * new one.
 */
export function rollupUpsert(rollup: RollupDescriptor): { head: string; tail: string } {
  const keys = keyColumns(rollup).join(', ');
  const add = (c: string) => `${c} = ${rollup.table}.${c} + excluded.${c}`;
  return {
    head: `insert into ${rollup.table} (${keys}, ${COUNTER_COLUMN_LIST.join(', ')})`,
    tail: `on conflict (${keys}) do update set ${COUNTER_COLUMN_LIST.map(add).join(', ')}`,
  };
}

/** The upsert of one row with a parameter per column: key columns, then the counters. */
export function rollupUpsertOfOneRow(rollup: RollupDescriptor): string {
  const { head, tail } = rollupUpsert(rollup);
  const columns = keyColumns(rollup).length + COUNTER_COLUMN_LIST.length;
  return `${head} values (${Array(columns).fill('?').join(', ')}) ${tail}`;
}

/** The SQL that sums a counter column over grouped events: `requests` is their count. */
export function counterSumSql(column: CounterColumn): string {
  return column === 'requests' ? 'count(*)' : `sum(${column})`;
}

/**
 * The select that groups a set of events (a table or CTE named `source` with the columns of
 * `usage_events`) into a rollup's increments, in key order: the key columns (`timeKey` computes
 * the grain's key), then the count and the sums.
 */
export function rollupGroupingSelect(rollup: RollupDescriptor, source: string, timeKey: string): string {
  const keys = ['organization_id', timeKey, ...rollup.dimensions.map((d) => d.sql)];
  const positions = keys.map((_, i) => i + 1).join(', ');
  const where = rollup.counts === 'all' ? '' : ' where api_key_id is not null';
  const sums = COUNTER_COLUMN_LIST.map(counterSumSql).join(', ');
  return `select ${keys.join(', ')}, ${sums} from ${rollupSourceSql(rollup, source)}${where} group by ${positions} order by ${positions}`;
}
