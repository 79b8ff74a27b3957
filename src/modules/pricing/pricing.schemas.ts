import { Type } from '@sinclair/typebox';
import { ORG_ID_PATTERN } from '../../http/common.schemas.ts';

/** A model name or a `*` pattern, as it may appear in a path. */
export const MODEL_KEY_PATTERN = '^[A-Za-z0-9._:@/*+-]{1,200}$';

/** CHF per 1M units: a number or a decimal string, at most 12 decimals. */
export const PriceAmount = Type.Union(
  [Type.Number({ minimum: 0 }), Type.String({ pattern: '^\\s*\\d+(\\.\\d+)?\\s*$' })],
  { description: 'CHF per 1M units, as a number or a decimal string (at most 12 decimals)' },
);

export const PricingQuery = Type.Object({
  at: Type.Optional(
    Type.String({ format: 'date-time', description: 'ISO-8601 time; the sheet in force then (default: now)' }),
  ),
  organization_id: Type.Optional(
    Type.String({
      pattern: ORG_ID_PATTERN,
      description:
        "The sheet this organization gets: its own prices over the platform's, each with its `source` (a key of the organization, or a platform admin key)",
    }),
  ),
});

export const ModelPrice = Type.Object(
  {
    model: Type.String({ description: 'Model name, or a pattern where `*` matches any characters' }),
    pattern: Type.Boolean(),
    neurons_chf_per_million: Type.Number({ description: 'CHF per 1M neurons (input)' }),
    synapses_chf_per_million: Type.Number({ description: 'CHF per 1M synapses (output)' }),
    cached_neurons_chf_per_million: Type.Optional(
      Type.Number({
        description: 'CHF per 1M neurons read from the prompt cache; absent: priced as neurons',
      }),
    ),
    cache_write_neurons_chf_per_million: Type.Optional(
      Type.Number({
        description: 'CHF per 1M neurons written to the prompt cache; absent: priced as neurons',
      }),
    ),
    effective_from: Type.String({ format: 'date-time' }),
    source: Type.Optional(
      Type.Union([Type.Literal('platform'), Type.Literal('organization')], {
        description:
          "In an organization's sheet: whether the price is the platform's or the organization's own (which takes precedence)",
      }),
    ),
  },
  { title: 'ModelPrice', description: 'The price of a model (or `*` pattern) from a time on' },
);

export const OrganizationModelPrice = Type.Object(
  { organization_id: Type.String(), ...ModelPrice.properties },
  {
    title: 'OrganizationModelPrice',
    description: "An organization's own price of a model (or `*` pattern) from a time on",
  },
);

export const PriceSheetResponse = Type.Object(
  {
    at: Type.String({ format: 'date-time' }),
    organization_id: Type.Optional(
      Type.String({ description: 'The organization whose sheet this is, when asked for' }),
    ),
    currency: Type.Literal('CHF'),
    models: Type.Array(ModelPrice),
  },
  { title: 'PriceSheet', description: 'The price of each model in force at one time' },
);

export const ModelParams = Type.Object({
  model: Type.String({ pattern: MODEL_KEY_PATTERN, description: 'Model name or `*` pattern (URL-encoded)' }),
});

export const OrganizationModelParams = Type.Object({
  org_id: Type.String({ pattern: ORG_ID_PATTERN }),
  model: Type.String({ pattern: MODEL_KEY_PATTERN, description: 'Model name or `*` pattern (URL-encoded)' }),
});

export const SetPriceBody = Type.Object(
  {
    neurons_chf_per_million: PriceAmount,
    synapses_chf_per_million: PriceAmount,
    cached_neurons_chf_per_million: Type.Optional(
      Type.Union(PriceAmount.anyOf, {
        description: 'CHF per 1M neurons read from the prompt cache; absent: the neuron price',
      }),
    ),
    cache_write_neurons_chf_per_million: Type.Optional(
      Type.Union(PriceAmount.anyOf, {
        description: 'CHF per 1M neurons written to the prompt cache; absent: the neuron price',
      }),
    ),
    effective_from: Type.Optional(
      Type.String({ format: 'date-time', description: 'From when the price applies (default: now)' }),
    ),
  },
  { additionalProperties: false, title: 'NewPrice' },
);

export const UnpricedResponse = Type.Object(
  {
    models: Type.Array(
      Type.Object({
        model: Type.String(),
        first_seen: Type.String({ format: 'date-time' }),
        last_seen: Type.String({ format: 'date-time' }),
        event_count: Type.Integer(),
        organization_count: Type.Integer(),
      }),
    ),
  },
  { title: 'UnpricedModels', description: 'Models of stored events that have no price at their time' },
);

export const RepriceBody = Type.Object(
  {
    model: Type.String({ pattern: MODEL_KEY_PATTERN, description: 'Model, sheet pattern, or base of dated snapshots' }),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive; default: all history' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Exclusive; default: now' })),
  },
  { additionalProperties: false, title: 'RepriceRequest' },
);

export const RepriceResponse = Type.Object(
  {
    models: Type.Array(Type.String(), { description: 'Event models looked at' }),
    months: Type.Array(Type.Integer(), { description: 'Months (yyyymm) whose rollups were rebuilt' }),
    examined: Type.Integer({ description: 'Events priced from the sheet, or unpriced, in the range' }),
    changed: Type.Integer(),
    unpriced: Type.Integer({ description: 'Events still without a price' }),
    skipped: Type.Integer({
      description:
        'Events left unchanged: their computed cost exceeds 1000000 CHF, or their new costs would take their organization past 1000000000 CHF in a month',
    }),
  },
  { title: 'RepriceResult', description: 'What repricing changed' },
);
