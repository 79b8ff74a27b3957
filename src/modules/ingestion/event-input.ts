/**
 * The one module that turns raw usage input into validated events, with the same rules and the
 * same messages for every source: the HTTP route (whose body schema Fastify checks first), the
 * CLI import, and whatever source comes next. A source checks each raw event's shape with
 * checkEventShape (the route's schema, its messages), then the batch goes to ingestUsage, which
 * applies toUsageEvent, the references to organizations and keys, and the price sheet.
 */
import type { Static } from '@sinclair/typebox';
import type { FieldError } from '../../errors.ts';
import { bodyValidator } from '../../http/validation.ts';
import { MAX_EVENT_COST_NANO, parseChf } from '../../money/chf.ts';
import { isStorableText, textReason } from '../../text/storable-text.ts';
import { EARLIEST_EVENT_MS, MAX_EVENT_FUTURE_MS, parseIsoTime } from '../../time/calendar.ts';
import { NO_TAGS, type UsageEvent } from '../../usage/event.ts';
import { UsageEventInput as UsageEventSchema } from './ingestion.schemas.ts';

/** A usage event as a reporter sends it, its shape checked. */
export type UsageEventInput = Static<typeof UsageEventSchema>;

/** Where a check tells what is wrong with the event at `index`. */
export type Reject = (index: number, field: string, reason: string) => void;

const checkShape = bodyValidator<UsageEventInput>(UsageEventSchema);

/**
 * A raw event (a parsed JSON object, a CSV record) checked against the schema of an event of
 * `POST /v1/usage/events`: the event, or what is wrong with it, field by field (`neurons`,
 * `timestamp`), in the words a 400 of the route uses.
 */
export function checkEventShape(raw: unknown): { event: UsageEventInput } | { errors: FieldError[] } {
  const checked = checkShape(raw);
  if ('value' in checked) return { event: checked.value };
  // Named within the event: the whole of it is `event`.
  return { errors: checked.errors.map((e) => ({ ...e, field: e.field === 'body' ? 'event' : e.field })) };
}

/** An input event as stored, its cost and time parsed; what is wrong with it goes to `reject`. */
export function toUsageEvent(input: UsageEventInput, index: number, now: number, reject: Reject): UsageEvent {
  // Checked at the edge too (HTTP, CLI import); here so that no caller can store two ids as one.
  if (!isStorableText(input.id)) reject(index, 'id', textReason(input.id));
  if (!isStorableText(input.model)) reject(index, 'model', textReason(input.model));
  // Without a stated cost the event is priced from the sheet after validation (priceUnstatedCosts).
  const costNano = input.cost === undefined ? 0n : parseChf(input.cost);
  if (costNano === undefined) reject(index, 'cost', 'must be a non-negative decimal CHF amount');
  else if (costNano > MAX_EVENT_COST_NANO) reject(index, 'cost', 'must not exceed 1000000 CHF');
  checkParts(input, index, reject);
  if (input.end_user !== undefined && !isStorableText(input.end_user)) {
    reject(index, 'end_user', textReason(input.end_user));
  }
  for (const [key, value] of Object.entries(input.tags ?? {})) {
    if (!isStorableText(value)) reject(index, `tags.${key}`, textReason(value));
  }
  let occurredAt = now;
  if (input.timestamp !== undefined) {
    occurredAt = parseIsoTime(input.timestamp);
    if (!Number.isFinite(occurredAt)) {
      reject(index, 'timestamp', 'must be an ISO-8601 date-time');
    } else if (occurredAt < EARLIEST_EVENT_MS) {
      reject(index, 'timestamp', 'must not be before 2000-01-01T00:00:00Z');
    } else if (occurredAt > now + MAX_EVENT_FUTURE_MS) {
      reject(index, 'timestamp', 'must not be more than 24 hours in the future');
    }
  }
  return {
    organizationId: input.organization_id,
    id: input.id,
    apiKeyId: input.api_key_id ?? null,
    model: input.model,
    neurons: BigInt(input.neurons),
    cachedNeurons: BigInt(input.cached_neurons ?? 0),
    cacheWriteNeurons: BigInt(input.cache_write_neurons ?? 0),
    synapses: BigInt(input.synapses),
    reasoningSynapses: BigInt(input.reasoning_synapses ?? 0),
    endUser: input.end_user ?? null,
    tags: input.tags ? { ...input.tags } : NO_TAGS,
    costNano: costNano ?? 0n,
    costSource: input.cost === undefined ? 'unpriced' : 'reported',
    occurredAt,
  };
}

/** The parts of the units are subsets of their totals: cache parts of neurons, reasoning of synapses. */
function checkParts(input: UsageEventInput, index: number, reject: Reject): void {
  const cached = input.cached_neurons ?? 0;
  const cacheWrite = input.cache_write_neurons ?? 0;
  if (cached > input.neurons) reject(index, 'cached_neurons', 'must not exceed neurons');
  if (cacheWrite > input.neurons) reject(index, 'cache_write_neurons', 'must not exceed neurons');
  else if (cached <= input.neurons && cached + cacheWrite > input.neurons) {
    reject(index, 'cache_write_neurons', 'must not exceed neurons together with cached_neurons');
  }
  if ((input.reasoning_synapses ?? 0) > input.synapses) {
    reject(index, 'reasoning_synapses', 'must not exceed synapses');
  }
}

/** The same id twice in one batch counts once: the first occurrence is kept. */
export function firstOfEachId(events: UsageEvent[]): UsageEvent[] {
  const seen = new Map<string, UsageEvent>();
  for (const event of events) {
    const key = `${event.organizationId}/${event.id}`;
    if (!seen.has(key)) seen.set(key, event);
  }
  // Sorted so that concurrent batches insert ids in one order and cannot deadlock.
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
}
