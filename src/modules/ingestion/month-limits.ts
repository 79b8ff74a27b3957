/**
 * What one organization may use in one UTC month: at most 1,000,000,000 CHF, 2^53 - 1 neurons
 * and 2^53 - 1 synapses. Every rollup row of a month is part of its organization's month total,
 * so every sum the API answers for one month fits a 64-bit integer, and a JSON number exactly.
 *
 * The bounds are CHECK constraints of rollup_org_month (migration 2026_12_02_0001), which
 * ingestion adds to in the same statement (PostgreSQL) or transaction (SQLite) as the events and
 * the other rollups: a batch that would take a total past a bound fails as a whole and writes
 * nothing, whatever the number of concurrent writers. Nothing is read for it while the bounds
 * hold; after such a failure, monthLimitError finds which organization, month and events it was.
 */
import { type AppError, type FieldError, invalidRequest } from '../../errors.ts';
import { violatedCheckConstraint } from '../../storage/failures.ts';
import type { Db } from '../../storage/schema.ts';
import { toBigInt } from '../../storage/values.ts';
import { monthKeyOf } from '../../time/calendar.ts';
import { type Counters, emptyCounters } from '../../usage/counters.ts';
import type { UsageEvent } from '../../usage/event.ts';
import { MAX_MONTH_COST_NANO, MAX_MONTH_UNITS } from '../../usage/month-maximum.ts';

/** The bounded counters: the event field each comes from, and how its bound reads. */
const BOUNDS = [
  { field: 'cost', counter: 'costNano', max: MAX_MONTH_COST_NANO, text: '1000000000 CHF' },
  { field: 'neurons', counter: 'neurons', max: MAX_MONTH_UNITS, text: `${MAX_MONTH_UNITS} neurons` },
  { field: 'synapses', counter: 'synapses', max: MAX_MONTH_UNITS, text: `${MAX_MONTH_UNITS} synapses` },
] as const satisfies ReadonlyArray<{ field: string; counter: keyof Counters; max: bigint; text: string }>;

type Bound = (typeof BOUNDS)[number];

export function isMonthLimitViolation(error: unknown): boolean {
  return violatedCheckConstraint(error)?.startsWith('rollup_org_month_') ?? false;
}

const monthId = (organizationId: string, month: number) => `${organizationId}\u0000${month}`;

/**
 * The 400 for a batch whose write failed on a monthly bound: by index (`events` as the batch
 * listed them), each event not stored yet that adds to a total the batch would take past its
 * bound. Sent again without them, the rest of the batch fits. Undefined when `error` is another
 * one, or when no total is past a bound any more (a repricing lowered it meanwhile): the caller
 * then lets the error through, and a retry succeeds.
 */
export async function monthLimitError(
  db: Db,
  error: unknown,
  events: readonly UsageEvent[],
): Promise<AppError | undefined> {
  if (!isMonthLimitViolation(error)) return undefined;
  const { over, known } = await boundsPassed(db, events);
  if (over.size === 0) return undefined;
  const errors: FieldError[] = [];
  events.forEach((event, index) => {
    if (known.has(eventId(event))) return;
    const month = monthKeyOf(event.occurredAt);
    for (const bound of over.get(monthId(event.organizationId, month)) ?? []) {
      if (event[bound.counter] === 0n) continue;
      const when = `${Math.floor(month / 100)}-${String(month % 100).padStart(2, '0')}`;
      errors.push({
        index,
        field: `events[${index}].${bound.field}`,
        reason: `would take the usage of ${event.organizationId} in ${when} past ${bound.text}, the most an organization may use in a month`,
      });
    }
  });
  return errors.length > 0 ? invalidRequest('Usage past a monthly maximum', errors) : undefined;
}

const eventId = (event: UsageEvent) => `${event.organizationId}\u0000${event.id}`;

/**
 * The bounds each (organization, month) would pass if the batch's events not yet stored were
 * added now, and the events that are stored.
 */
async function boundsPassed(
  db: Db,
  events: readonly UsageEvent[],
): Promise<{ over: Map<string, Bound[]>; known: Set<string> }> {
  const organizationIds = [...new Set(events.map((e) => e.organizationId))];
  const storedRows = await db
    .selectFrom('usage_events')
    .select(['organization_id', 'id'])
    .where('organization_id', 'in', organizationIds)
    .where('id', 'in', [...new Set(events.map((e) => e.id))])
    .execute();
  const known = new Set(storedRows.map((row) => `${row.organization_id}\u0000${row.id}`));
  const counted = new Set(known);
  const added = new Map<string, Counters>();
  for (const event of events) {
    const key = eventId(event);
    if (counted.has(key)) continue;
    counted.add(key); // the same id twice in a batch counts once
    const id = monthId(event.organizationId, monthKeyOf(event.occurredAt));
    const sum = added.get(id) ?? emptyCounters();
    sum.neurons += event.neurons;
    sum.synapses += event.synapses;
    sum.costNano += event.costNano;
    added.set(id, sum);
  }
  const months = [...new Set(events.map((e) => monthKeyOf(e.occurredAt)))];
  const totals = await db
    .selectFrom('rollup_org_month')
    .select(['organization_id', 'month', 'neurons', 'synapses', 'cost_nano'])
    .where('organization_id', 'in', organizationIds)
    .where('month', 'in', months)
    .execute();
  const stored = new Map(totals.map((row) => [monthId(row.organization_id, Number(row.month)), row]));
  const over = new Map<string, Bound[]>();
  for (const [id, sum] of added) {
    const row = stored.get(id);
    const now: Counters = emptyCounters();
    if (row) {
      now.neurons = toBigInt(row.neurons);
      now.synapses = toBigInt(row.synapses);
      now.costNano = toBigInt(row.cost_nano);
    }
    const passed = BOUNDS.filter((bound) => now[bound.counter] + sum[bound.counter] > bound.max);
    if (passed.length > 0) over.set(id, passed);
  }
  return { over, known };
}
