import { type Kysely, sql } from 'kysely';
import type { EngineName } from '../storage.ts';

// Frozen: this migration never imports application code. PostgreSQL only: raw events become a
// table partitioned by month on occurred_at (one partition per UTC month, named
// usage_events_pYYYYMM), so that retention drops whole months. A primary key of a partitioned
// table must contain the partition key, so (organization_id, id) can no longer be unique there;
// usage_event_ids keeps it unique across all months instead: ingestion claims an id in it before
// storing the event, and a retry (whose time may differ: an event without a timestamp is
// stamped on arrival) finds it claimed. Existing rows are copied; indexes are built after the
// copy, which is faster than maintaining them row by row. SQLite keeps its single table.

const COLUMNS =
  'organization_id, id, api_key_id, model, neurons, synapses, cost_nano, cost_source, occurred_at, received_at';

/** A UTC month (yyyymm) as a partition: its name and its bounds in epoch ms. */
function partitionOf(month: number): { name: string; from: number; to: number } {
  const year = Math.floor(month / 100);
  const index = month % 100;
  return { name: `usage_events_p${month}`, from: Date.UTC(year, index - 1, 1), to: Date.UTC(year, index, 1) };
}

export async function up(db: Kysely<any>, engine: EngineName): Promise<void> {
  if (engine !== 'postgres') return;
  await sql`alter table usage_events rename to usage_events_unpartitioned`.execute(db);
  await sql`
    create table usage_events (
      organization_id text not null,
      id text not null,
      api_key_id text,
      model text not null,
      neurons bigint not null,
      synapses bigint not null,
      cost_nano bigint not null,
      occurred_at bigint not null,
      received_at bigint not null,
      cost_source text not null default 'reported'
    ) partition by range (occurred_at)`.execute(db);
  const { rows } = await sql<{ month: number }>`
    select distinct (extract(year from t) * 100 + extract(month from t))::integer as month
    from (select to_timestamp(occurred_at / 1000.0) at time zone 'UTC' as t from usage_events_unpartitioned) as times
    order by month`.execute(db);
  for (const { month } of rows) {
    const { name, from, to } = partitionOf(Number(month));
    // Bounds are integers computed here; DDL takes no parameters.
    await sql`create table ${sql.id(name)} partition of usage_events
      for values from (${sql.lit(from)}) to (${sql.lit(to)})`.execute(db);
  }
  await sql`insert into usage_events (${sql.raw(COLUMNS)})
    select ${sql.raw(COLUMNS)} from usage_events_unpartitioned`.execute(db);
  await sql`create table usage_event_ids (organization_id text not null, id text not null)`.execute(db);
  await sql`insert into usage_event_ids (organization_id, id)
    select organization_id, id from usage_events_unpartitioned`.execute(db);
  await sql`drop table usage_events_unpartitioned`.execute(db);
  await sql`alter table usage_event_ids add constraint usage_event_ids_pk primary key (organization_id, id)`.execute(
    db,
  );
  await sql`alter table usage_events add constraint usage_events_pk primary key (organization_id, id, occurred_at)`.execute(
    db,
  );
  await sql`create index usage_events_org_time_idx on usage_events (organization_id, occurred_at)`.execute(db);
  await sql`create index usage_events_unpriced_idx on usage_events (model, occurred_at)
    where cost_source = 'unpriced'`.execute(db);
}

export async function down(db: Kysely<any>, engine: EngineName): Promise<void> {
  if (engine !== 'postgres') return;
  await sql`alter table usage_events rename to usage_events_partitioned`.execute(db);
  await sql`alter index usage_events_pk rename to usage_events_partitioned_pk`.execute(db);
  await sql`alter index usage_events_org_time_idx rename to usage_events_partitioned_org_time_idx`.execute(db);
  await sql`alter index usage_events_unpriced_idx rename to usage_events_partitioned_unpriced_idx`.execute(db);
  await sql`
    create table usage_events (
      organization_id text not null,
      id text not null,
      api_key_id text,
      model text not null,
      neurons bigint not null,
      synapses bigint not null,
      cost_nano bigint not null,
      occurred_at bigint not null,
      received_at bigint not null,
      cost_source text not null default 'reported',
      constraint usage_events_pk primary key (organization_id, id)
    )`.execute(db);
  await sql`insert into usage_events (${sql.raw(COLUMNS)})
    select ${sql.raw(COLUMNS)} from usage_events_partitioned`.execute(db);
  await sql`drop table usage_events_partitioned`.execute(db);
  await sql`drop table usage_event_ids`.execute(db);
  await sql`create index usage_events_org_time_idx on usage_events (organization_id, occurred_at)`.execute(db);
  await sql`create index usage_events_unpriced_idx on usage_events (model, occurred_at)
    where cost_source = 'unpriced'`.execute(db);
}
