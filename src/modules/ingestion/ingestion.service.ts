/**
 * Usage ingestion: a batch is validated as a whole, then its new events and their rollup
 * increments are written in one transaction. Retried event ids are acknowledged, not counted.
 */
import type { Static } from '@sinclair/typebox';
import { AppError, type FieldError, invalidRequest } from '../../errors.ts';
import { MAX_EVENT_COST_NANO, parseChf } from '../../money/chf.ts';
import type { Storage } from '../../storage/database.ts';
import { isStorableText, textReason } from '../../text/storable-text.ts';
import { EARLIEST_EVENT_MS, MAX_EVENT_FUTURE_MS, parseIsoTime } from '../../time/calendar.ts';
import { canActOn, type Principal } from '../auth/principal.ts';
import { priceUnstatedCosts } from '../pricing/pricing.service.ts';
import { writeBatch } from './batch-writer.ts';
import type { UsageEventInput as UsageEventSchema } from './ingestion.schemas.ts';
import { existingReferences } from './known-references.ts';
import { monthLimitError } from './month-limits.ts';
import type { UsageEvent } from './rollups.ts';

export type UsageEventInput = Static<typeof UsageEventSchema>;

export interface IngestResult {
  accepted: number;
  duplicates: number;
  /** Ids of accepted events that stated no cost and whose model has no price (stored with cost 0). */
  unpriced: string[];
}

export async function ingestUsage(
  storage: Storage,
  principal: Principal,
  inputs: readonly UsageEventInput[],
  now: number,
): Promise<IngestResult> {
  for (const input of inputs) {
    if (!canActOn(principal, input.organization_id)) {
      throw new AppError('ORGANIZATION_ACCESS_DENIED', {
        systemMessage: "API key doesn't belong to the organization of every event",
        details: { organization_id: input.organization_id },
      });
    }
  }
  const errors: FieldError[] = [];
  const reject = (index: number, field: string, reason: string) =>
    errors.push({ index, field: `events[${index}].${field}`, reason });
  const events = inputs.map((input, index) => toUsageEvent(input, index, now, reject));
  await checkReferences(storage, events, now, reject);
  await priceUnstatedCosts(storage.db, events, reject);
  if (errors.length > 0) throw invalidRequest('Invalid usage events', errors);

  const unique = firstOfEachId(events);
  const accepted = await writeBatch(storage, {
    events: unique,
    reservations: reservationIds(inputs),
    receivedAt: now,
  }).catch(async (error: unknown) => {
    // A monthly bound (month-limits.ts) failed the write as a whole: a 400 naming the events.
    throw (await monthLimitError(storage.db, error, events)) ?? error;
  });
  const unpriced = accepted.filter((e) => e.costSource === 'unpriced').map((e) => e.id);
  return {
    accepted: accepted.length,
    duplicates: inputs.length - accepted.length,
    unpriced,
  };
}

export type Reject = (index: number, field: string, reason: string) => void;

/** (organization, reservation) pairs named by the batch; settling is idempotent, so duplicates may name them too. */
function reservationIds(inputs: readonly UsageEventInput[]): Array<[string, string]> {
  return inputs.flatMap(
    (i): Array<[string, string]> => (i.reservation_id ? [[i.organization_id, i.reservation_id]] : []),
  );
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
    synapses: BigInt(input.synapses),
    costNano: costNano ?? 0n,
    costSource: input.cost === undefined ? 'unpriced' : 'reported',
    occurredAt,
  };
}

/**
 * The organization must exist, and the API key must be one of its keys that existed at the
 * event's time: created at or before it, and not deleted at or before it.
 */
async function checkReferences(storage: Storage, events: UsageEvent[], now: number, reject: Reject): Promise<void> {
  const orgIds = [...new Set(events.map((e) => e.organizationId))];
  // "org/key" of each event (undefined without a key), and each distinct one's key id.
  const pairs = events.map((e) => (e.apiKeyId === null ? undefined : `${e.organizationId}/${e.apiKeyId}`));
  const keyIds = new Map<string, string>();
  events.forEach((e, index) => {
    if (e.apiKeyId !== null) keyIds.set(pairs[index]!, e.apiKeyId);
  });
  const { orgs, keys } = await existingReferences(storage.db, orgIds, keyIds, now);
  events.forEach((event, index) => {
    if (!orgs.has(event.organizationId)) {
      reject(index, 'organization_id', 'names no known organization');
      return;
    }
    const pair = pairs[index];
    if (pair === undefined) return;
    const key = keys.get(pair);
    if (!key) {
      reject(index, 'api_key_id', 'is not an API key of the organization');
    } else if (event.occurredAt < key.createdAt) {
      reject(
        index,
        'api_key_id',
        `names a key that did not exist yet at the event's time (created ${isoMillis(key.createdAt)})`,
      );
    } else if (key.deletedAt !== null && event.occurredAt >= key.deletedAt) {
      reject(
        index,
        'api_key_id',
        `names a key already deleted at the event's time (deleted ${isoMillis(key.deletedAt)})`,
      );
    }
  });
}

function isoMillis(ms: number): string {
  return new Date(ms).toISOString();
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
