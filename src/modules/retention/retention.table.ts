/** What retention records of the raw events it removed (see the 2026_12_03_0201 migration). */
import type { ColumnType } from 'kysely';

export interface RawEventRetentionTable {
  /** Always 1: the table has one row at most. */
  id: number;
  /** Epoch ms, the start of a UTC month: no raw event before it is kept. Never lowered. */
  removed_before: ColumnType<bigint, bigint | number, bigint | number>;
}
