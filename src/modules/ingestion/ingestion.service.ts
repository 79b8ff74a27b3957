/**
 * Usage ingestion: a batch is validated as a whole, then its new events and their rollup
 * increments are written in one transaction. Retried event ids are acknowledged, not counted.
 */
import type { AppContext } from '../../context.ts';
import { AppError, type FieldError, invalidRequest } from '../../errors.ts';
import { EARLIEST_EVENT_MS } from '../../time/calendar.ts';
import type { UsageEvent } from '../../usage/event.ts';
import type { KeyLifetime } from '../api-keys/api-keys.repository.ts';
import { canActOn, type Principal } from '../auth/principal.ts';
import { priceUnstatedCosts } from '../pricing/pricing.service.ts';
import { firstOfEachId, type Reject, toUsageEvent, type UsageEventInput } from './event-input.ts';
import { monthLimitError } from './month-limits.ts';

export interface IngestResult {
  accepted: number;
  duplicates: number;
  /** Ids of accepted events that stated no cost and whose model has no price (stored with cost 0). */
  unpriced: string[];
}

/** What ingestion needs of the process: the storage, and what it knows of organizations and keys. */
export type IngestionContext = Pick<AppContext, 'storage' | 'keys' | 'organizations' | 'retention'>;

export async function ingestUsage(
  ctx: IngestionContext,
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
  rejectBeforeHorizon(events, await ctx.retention.horizon(), reject);
  await checkReferences(ctx, events, now, reject);
  await priceUnstatedCosts(ctx.storage.db, events, reject);
  if (errors.length > 0) throw invalidRequest('Invalid usage events', errors);

  const unique = firstOfEachId(events);
  const accepted = await ctx.storage
    .writeBatch({ events: unique, reservations: reservationIds(inputs), receivedAt: now })
    .catch(async (error: unknown) => {
      // A monthly bound (month-limits.ts) failed the write as a whole: a 400 naming the events.
      throw (await monthLimitError(ctx.storage.db, error, events)) ?? error;
    });
  const unpriced = accepted.filter((e) => e.costSource === 'unpriced').map((e) => e.id);
  return {
    accepted: accepted.length,
    duplicates: inputs.length - accepted.length,
    unpriced,
  };
}

/**
 * Events dated before the retention horizon are refused: their month's raw events are removed
 * (or about to be), so a retry of one could not be recognized and would be counted again.
 */
function rejectBeforeHorizon(events: readonly UsageEvent[], horizon: number | undefined, reject: Reject): void {
  if (horizon === undefined) return;
  events.forEach((event, index) => {
    // Times before the earliest allowed one are refused already, for that reason.
    if (event.occurredAt >= EARLIEST_EVENT_MS && event.occurredAt < horizon) {
      reject(
        index,
        'timestamp',
        `must not be before ${isoMillis(horizon)}, the raw event retention horizon (RAW_EVENTS_RETENTION_MONTHS): raw events before it are not kept`,
      );
    }
  });
}

/**
 * Index → reason of each event a 400 of ingestUsage names, or undefined when the error is not
 * about single events (a database failure, a bound of the whole batch). The sources that ingest
 * many batches (the CLI import, the queue) set those events aside and send the rest again.
 */
export function rejectedIndexes(error: unknown): Map<number, string> | undefined {
  if (!(error instanceof AppError) || error.code !== 'INVALID_REQUEST') return undefined;
  const errors = (error.details?.errors ?? []) as FieldError[];
  if (errors.length === 0 || errors.some((e) => e.index === undefined)) return undefined;
  const byIndex = new Map<number, string>();
  for (const e of errors) {
    const field = e.field.replace(/^events\[\d+\]\./, '');
    const reason = `${field} ${e.reason}`;
    byIndex.set(e.index!, byIndex.has(e.index!) ? `${byIndex.get(e.index!)}; ${reason}` : reason);
  }
  return byIndex;
}

/** (organization, reservation) pairs named by the batch; settling is idempotent, so duplicates may name them too. */
function reservationIds(inputs: readonly UsageEventInput[]): Array<[string, string]> {
  return inputs.flatMap(
    (i): Array<[string, string]> => (i.reservation_id ? [[i.organization_id, i.reservation_id]] : []),
  );
}

/**
 * The organization must exist, and the API key must be one of its keys that existed at the
 * event's time: created at or before it, and not deleted at or before it.
 */
async function checkReferences(
  ctx: IngestionContext,
  events: UsageEvent[],
  now: number,
  reject: Reject,
): Promise<void> {
  const orgIds = [...new Set(events.map((e) => e.organizationId))];
  // "org/key" of each event (undefined without a key), and each distinct one's key id.
  const pairs = events.map((e) => (e.apiKeyId === null ? undefined : `${e.organizationId}/${e.apiKeyId}`));
  const keyIds = new Map<string, string>();
  events.forEach((e, index) => {
    if (e.apiKeyId !== null) keyIds.set(pairs[index]!, e.apiKeyId);
  });
  const [orgs, keys] = await Promise.all([
    ctx.organizations.existing(orgIds),
    keyIds.size > 0 ? ctx.keys.lookup(keyIds, now) : new Map<string, KeyLifetime>(),
  ]);
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
