/**
 * PostgreSQL: a whole batch in one statement, committed on its own, its rows passed as one array
 * per column (`unnest`): one round trip and a plan of fixed size. The new events (those whose id
 * the statement could claim in usage_event_ids, unique across the monthly partitions), their
 * increments to every rollup (grouped from the ids claimed, so retried events add nothing) and the reservations they settle are one atomic write. Run as separate statements in
 * a transaction, the rollup rows that concurrent batches share stayed locked while the
 * transaction waited for this process to send its next statement; most of ingestion was then
 * spent waiting for those locks. The rollups are written in the order of ROLLUPS, each in key
 * order, so concurrent batches cannot deadlock one another.
 */
import { sql } from 'kysely';
import { canonicalTags, type UsageEvent } from '../../usage/event.ts';
import { ROLLUPS } from '../../usage/rollups.ts';
import { rollupGroupingSelect, rollupUpsert } from '../rollup-sql.ts';
import type { Db } from '../schema.ts';

const texts = (values: ReadonlyArray<string | null>) => sql`cast(${values} as text[])`;
const int8s = (values: ReadonlyArray<bigint | number>) => sql`cast(${values.map(String)} as int8[])`;
const int4s = (values: readonly number[]) => sql`cast(${values} as integer[])`;

/** Each grain the rollups use, computed for every event in JS and passed as a column of its own. */
const GRAINS = [...new Map(ROLLUPS.map((r) => [r.grain.column, r.grain])).values()];

/** One CTE per rollup, adding the grouped new events to it. */
const ROLLUP_WRITES = ROLLUPS.map((rollup, i) => {
  const { head, tail } = rollupUpsert(rollup);
  return `rollup_${i} as (${head} ${rollupGroupingSelect(rollup, 'new_events', rollup.grain.column)} ${tail})`;
}).join(',\n    ');

/** Writes the batch; resolves with the events that were new, by their position in `events`. */
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
        int8s(events.map((e) => e.cachedNeurons)),
        int8s(events.map((e) => e.cacheWriteNeurons)),
        int8s(events.map((e) => e.reasoningSynapses)),
        texts(events.map((e) => e.endUser)),
        texts(events.map((e) => canonicalTags(e.tags))),
        ...GRAINS.map((grain) => int4s(events.map((e) => grain.keyOf(e.occurredAt)))),
      ])}) with ordinality as u(organization_id, id, api_key_id, model, neurons, synapses, cost_nano, cost_source,
        occurred_at, cached_neurons, cache_write_neurons, reasoning_synapses, end_user, tags, ${sql.raw(GRAINS.map((g) => g.column).join(', '))}, ord)
    ),
    claimed as (
      insert into usage_event_ids (organization_id, id)
      select organization_id, id from input
      on conflict (organization_id, id) do nothing
      returning organization_id, id
    ),
    inserted as (
      insert into usage_events (organization_id, id, api_key_id, model, neurons, synapses, cost_nano, cost_source, occurred_at, received_at,
        cached_neurons, cache_write_neurons, reasoning_synapses, end_user, tags)
      select input.organization_id, input.id, api_key_id, model, neurons, synapses, cost_nano, cost_source, occurred_at, ${receivedAt},
        cached_neurons, cache_write_neurons, reasoning_synapses, end_user, tags
      from input
      join claimed on claimed.organization_id = input.organization_id and claimed.id = input.id
      returning organization_id, id
    ),
    -- From the rows inserted, so that the raw events are written before the rollup rows, which
    -- concurrent batches share, are locked.
    new_events as (
      select input.* from input
      join inserted on inserted.organization_id = input.organization_id and inserted.id = input.id
    ),
    ${sql.raw(ROLLUP_WRITES)},
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
