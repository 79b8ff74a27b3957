/**
 * What a message of the ingestion queue holds: the JSON of `POST /v1/usage/events` (a batch
 * `{"events": [...]}`) or a single event, published on `<prefix>.usage.<organization_id>`.
 * Decoded and checked with the route's own schema and messages; what is wrong with a message
 * becomes the reason it goes to the dead letters.
 */
import type { FieldError } from '../../errors.ts';
import { bodyValidator } from '../../http/validation.ts';
import { nestedTooDeep, TOO_DEEP } from '../../text/json-nesting.ts';
import { checkEventShape, type UsageEventInput } from './event-input.ts';
import { IngestBody } from './ingestion.schemas.ts';

export type DecodedMessage =
  | { organizationId: string; events: UsageEventInput[] }
  | { organizationId: string | undefined; reason: string };

/** Decoding only (no streaming state): one for every message. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

const checkBatch = bodyValidator<typeof IngestBody.static>(IngestBody);

/** An organization id as it may stand in a subject: one token, as the route's pattern allows. */
const SUBJECT_TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * The events of a message, or why it cannot be ingested. Events without a `timestamp` happened
 * when they were published (`publishedAt`), not when a consumer got to them.
 */
export function decodeMessage(
  subject: string,
  usagePrefix: string,
  data: Uint8Array,
  publishedAt: number,
): DecodedMessage {
  const organizationId = subject.startsWith(`${usagePrefix}.`) ? subject.slice(usagePrefix.length + 1) : '';
  if (!SUBJECT_TOKEN.test(organizationId)) {
    return { organizationId: undefined, reason: `subject must be ${usagePrefix}.<organization_id> (got ${subject})` };
  }
  const rejected = (reason: string) => ({ organizationId, reason });
  let raw: unknown;
  try {
    const text = UTF8.decode(data);
    if (nestedTooDeep(text)) return rejected(`body ${TOO_DEEP}`);
    raw = JSON.parse(text);
  } catch (error) {
    return rejected(`body is not UTF-8 JSON: ${(error as Error).message}`);
  }
  let events: UsageEventInput[];
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw) && 'events' in raw) {
    const checked = checkBatch(raw);
    if ('errors' in checked) return rejected(describe(checked.errors));
    events = checked.value.events;
  } else {
    const checked = checkEventShape(raw);
    if ('errors' in checked) return rejected(describe(checked.errors));
    events = [checked.event];
  }
  const strangers = events.flatMap((e, index) =>
    e.organization_id === organizationId
      ? []
      : [{ field: `events[${index}].organization_id`, reason: `is not ${organizationId}, the subject's organization` }],
  );
  if (strangers.length > 0) return rejected(describe(strangers));
  const timestamp = new Date(publishedAt).toISOString();
  return { organizationId, events: events.map((e) => (e.timestamp === undefined ? { ...e, timestamp } : e)) };
}

/** Field errors in one line: `events[3].neurons must be an integer; …`. */
export function describe(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.field} ${e.reason}`).join('; ');
}
