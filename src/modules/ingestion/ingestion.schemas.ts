import { Type } from '@sinclair/typebox';
import { API_KEY_ID_PATTERN, ChfAmount, ORG_ID_PATTERN } from '../../http/common.schemas.ts';

/** Neurons or synapses in one event: far above any real request, far below 2^53. */
export const MAX_UNITS = 1_000_000_000_000;
export const MAX_BATCH = 1000;
/** Tags one event may carry. */
export const MAX_TAGS = 10;
export const TAG_KEY_PATTERN = '^[a-z][a-z0-9_.-]{0,63}$';
/** Characters of an end user and of a tag's value. */
export const MAX_LABEL_LENGTH = 256;

/** A part of an event's units (cached, written to the cache, reasoning): optional, bounded like its total. */
const partOfUnits = (description: string) =>
  Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_UNITS, description }));

export const UsageEventInput = Type.Object(
  {
    id: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Chosen by the reporter; a retry with a known id is not counted twice',
    }),
    organization_id: Type.String({ pattern: ORG_ID_PATTERN }),
    api_key_id: Type.Optional(
      Type.Union([Type.String({ pattern: API_KEY_ID_PATTERN }), Type.Null()], {
        description: 'The key that made the request; null or absent for web-app usage',
      }),
    ),
    model: Type.String({ minLength: 1, maxLength: 200 }),
    neurons: Type.Integer({
      minimum: 0,
      maximum: MAX_UNITS,
      description: 'Input units (1 neuron ≈ 10 input tokens)',
    }),
    synapses: Type.Integer({
      minimum: 0,
      maximum: MAX_UNITS,
      description: 'Output units (1 synapse ≈ 10 output tokens)',
    }),
    cached_neurons: partOfUnits(
      'Input units read from the prompt cache, part of neurons; each cache part and their sum at most neurons; default 0',
    ),
    cache_write_neurons: partOfUnits(
      'Input units written to the prompt cache, part of neurons; each cache part and their sum at most neurons; default 0',
    ),
    reasoning_synapses: partOfUnits('Output units spent on reasoning, part of synapses (at most synapses); default 0'),
    end_user: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: MAX_LABEL_LENGTH,
        description: "The organization's own user or customer who caused the request; not a credential",
      }),
    ),
    tags: Type.Optional(
      Type.Record(Type.String(), Type.String({ minLength: 1, maxLength: MAX_LABEL_LENGTH }), {
        maxProperties: MAX_TAGS,
        propertyNames: { pattern: TAG_KEY_PATTERN },
        description: `Up to ${MAX_TAGS} labels, e.g. {"feature": "chat"}; keys match ${TAG_KEY_PATTERN}, values are 1–${MAX_LABEL_LENGTH} characters`,
      }),
    ),
    cost: Type.Optional(
      Type.Union(ChfAmount.anyOf, {
        description: 'CHF, as a number or a decimal string; absent: priced from the price sheet at the event time',
      }),
    ),
    timestamp: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'When the request happened (ISO-8601); defaults to now',
      }),
    ),
    reservation_id: Type.Optional(
      Type.String({
        pattern: '^rsv_[A-Za-z0-9]{1,64}$',
        description: 'From POST /v1/usage/authorize: settles that reservation (this cost replaces its estimate)',
      }),
    ),
  },
  { title: 'UsageEvent', description: 'One model request' },
);

export const IngestBody = Type.Object(
  { events: Type.Array(UsageEventInput, { minItems: 1, maxItems: MAX_BATCH }) },
  { title: 'UsageEventBatch' },
);

export const IngestResponse = Type.Object(
  {
    success: Type.Literal(true),
    accepted: Type.Integer({ description: 'Events stored and counted by this request' }),
    duplicates: Type.Integer({
      description: 'Events whose id was already known (or repeated in the batch); acknowledged, not counted again',
    }),
    unpriced: Type.Array(Type.String(), {
      description:
        'Ids of accepted events that stated no cost and whose model has no price at their time (empty when none); stored and counted with cost 0, listed by GET /v1/pricing/unpriced until repriced',
    }),
  },
  { title: 'IngestResult', description: 'How many events of the batch were stored and counted' },
);
