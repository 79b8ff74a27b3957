import type { Kysely } from 'kysely';
import type { EngineName } from '../storage.ts';

// Frozen: this migration never imports application code. One row at most: the time (epoch ms,
// the start of a UTC month) before which raw events were removed by retention. Written before
// any event is removed and never lowered, so that every process knows which months have no raw
// events left: ingestion refuses events before it (a late retry could otherwise be counted
// again), and `verify`, its repair and repricing leave those months' rollups alone.

export async function up(db: Kysely<any>, _engine: EngineName): Promise<void> {
  await db.schema
    .createTable('raw_event_retention')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('removed_before', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('raw_event_retention').execute();
}
