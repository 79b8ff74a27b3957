/**
 * PostgreSQL: a whole batch in one statement (see writeBatchInOneStatement), its rows passed as
 * one array per column (`unnest`): one round trip and a plan of fixed size.
 */
import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../../storage/schema.ts';
import { dayKeyOf, monthKeyOf } from '../../time/calendar.ts';
import { type RollupTable, rollupUpsert } from './event-writers.ts';
import type { UsageEvent } from './rollups.ts';
import { NO_API_KEY } from './usage.table.ts';

const texts = (values: ReadonlyArray<string | null>) => sql`cast(${values} as text[])`;
const int8s = (values: ReadonlyArray<bigint | number>) => sql`cast(${values.map(String)} as int8[])`;
const int4s = (values: readonly number[]) => sql`cast(${values} as integer[])`;

/** Adds the rows of `source` (the key columns, then the counters) to a rollup. */
function upsertFrom(table: RollupTable, source: RawBuilder<unknown>) {
  const { head, tail } = rollupUpsert(table);
  return sql`${sql.raw(head)} ${source} ${sql.raw(tail)}`;
}

/**
 * PostgreSQL: a whole batch in one statement, committed on its own. The new events, their
 * rollup increments (grouped from the rows the insert returned, so retried events add nothing)
 * and the reservations they settle are one atomic write. Run as separate statements in a
 * transaction, the rollup rows that concurrent batches share stayed locked while the
 * transaction waited for this process to send its next statement; most of ingestion was then
 * spent waiting for those locks. Each rollup is written in key order, and the statement always
 * writes the tables in the same order, so concurrent batches cannot deadlock one another. The
 * organization-month rows come last: every batch of an organization shares them, and their CHECK
 * constraints fail the whole statement past a monthly bound (see month-limits.ts).
 */
export async function writeBatchInOneStatement(
  db: Db,
  events: readonly UsageEvent[],
  reservations: ReadonlyArray<[string, string]>,
  receivedAt: number,
): Promise<UsageEvent[]> {
  if (events.length === 0 && reservations.length === 0) return [];
  const { rows } = await sql<{ ord: bigint }>`
    with input as (
      select * from unnest(${sql.join([
        texts(events.map((e) => e.organizationId)),
        texts(events.map((e) => e.id)),
        texts(events.map((e) => e.apiKeyId)),
        texts(events.map((e) => e.model)),
        int8s(events.map((e) => e.neurons)),
        int8s(events.map((e) => e.synapses)),
        int8s(events.map((e) => e.costNano)),
        texts(events.map((e) => e.costSource ?? 'reported')),
        int8s(events.map((e) => e.occurredAt)),
        int4s(events.map((e) => monthKeyOf(e.occurredAt))),
        int4s(events.map((e) => dayKeyOf(e.occurredAt))),
      ])}) with ordinality as u(o, i, k, m, n, s, c, src, t, month, day, ord)
    ),
    inserted as (
      insert into usage_events (organization_id, id, api_key_id, model, neurons, synapses, cost_nano, cost_source, occurred_at, received_at)
      select o, i, k, m, n, s, c, src, t, ${receivedAt} from input
      on conflict (organization_id, id) do nothing
      returning organization_id, id
    ),
    new_events as (
      select input.* from input join inserted on inserted.organization_id = input.o and inserted.id = input.i
    ),
    key_day as (${upsertFrom(
      'rollup_key_day',
      sql`select o, day, coalesce(k, ${NO_API_KEY}), count(*), sum(n), sum(s), sum(c) from new_events
        group by 1, 2, 3 order by 1, 2, 3`,
    )}),
    key_model_month as (${upsertFrom(
      'rollup_key_model_month',
      sql`select o, month, k, m, count(*), sum(n), sum(s), sum(c) from new_events where k is not null
        group by 1, 2, 3, 4 order by 1, 2, 3, 4`,
    )}),
    org_model_month as (${upsertFrom(
      'rollup_org_model_month',
      sql`select o, month, m, count(*), sum(n), sum(s), sum(c) from new_events
        group by 1, 2, 3 order by 1, 2, 3`,
    )}),
    org_month as (${upsertFrom(
      'rollup_org_month',
      sql`select o, month, count(*), sum(n), sum(s), sum(c) from new_events group by 1, 2 order by 1, 2`,
    )}),
    settled as (
      -- The reported cost now counts instead of the estimate the gateway reserved.
      update reservations set settled_at = ${receivedAt}
      from unnest(${texts(reservations.map(([org]) => org))}, ${texts(reservations.map(([, id]) => id))}) as r(o, i)
      where reservations.organization_id = r.o and reservations.id = r.i and reservations.settled_at is null
    )
    select ord from new_events order by ord`.execute(db);
  // By position in `events`, not by the stored key: an answer that cannot fail once committed.
  return rows.map((row) => events[Number(row.ord) - 1]!);
}
