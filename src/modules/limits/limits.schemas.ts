/** Request and response shapes of the limits routes and the gateway budget check. */
import { Type } from '@sinclair/typebox';
import { ApiKeyId, ChfAmount, ORG_ID_PATTERN } from '../../http/common.schemas.ts';

const Chf = (description: string) => Type.Number({ description: `${description}, CHF rounded to 6 decimals` });
const NullableChf = (description: string) => Type.Union([Chf(description), Type.Null()]);
const Status = Type.Union(
  ['ok', 'warning', 'exceeded', 'no_limit'].map((s) => Type.Literal(s)),
  { description: 'ok below 80 % of the limit, warning from 80 %, exceeded from 100 %, no_limit without one' },
);
const Utilization = Type.Union([Type.Number({ description: 'Spent / limit, %, 2 decimals' }), Type.Null()]);

export const LimitsResponse = Type.Object(
  {
    organization_id: Type.String(),
    month: Type.Integer(),
    year: Type.Integer(),
    organization_limits: Type.Object({
      monthly_limit: NullableChf('Monthly limit on all usage of the organization'),
      spent: Chf('All usage this month'),
      remaining: NullableChf('Never below 0'),
      utilization: Utilization,
      status: Status,
    }),
    api_limits: Type.Union([
      Type.Object({
        limit: Chf('Monthly limit on all API-key usage together'),
        spent: Chf('API-key usage this month'),
        remaining: Chf('Never below 0'),
        utilization: Type.Number(),
        status: Status,
      }),
      Type.Null(),
    ]),
    api_key_limits: Type.Array(
      Type.Object({
        id: Type.String(),
        name: Type.String(),
        limit: Chf("The key's monthly limit"),
        spent: Chf("The key's usage this month"),
        remaining: Chf('Never below 0'),
        utilization: Type.Number(),
        status: Status,
      }),
      { description: 'One entry per key with a limit (deleted keys left out)' },
    ),
    summary: Type.Object({
      total_keys: Type.Integer({ description: 'Keys that are not deleted' }),
      keys_with_limits: Type.Integer(),
      overall_status: Status,
    }),
  },
  { title: 'UsageLimits', description: "The organization's limits and what was spent against each in one month" },
);

const PositiveLimit = (description: string) =>
  Type.Union([ChfAmount, Type.Null()], { description: `${description}: CHF > 0, or null to remove it` });

export const UpdateLimitsBody = Type.Object(
  {
    monthly_api_limit: Type.Optional(PositiveLimit('Monthly limit on all usage of the organization')),
    total_api_key_limit: Type.Optional(PositiveLimit('Monthly limit on all API-key usage together')),
    api_key_id: Type.Optional(ApiKeyId),
    api_key_limit: Type.Optional(PositiveLimit("The key's monthly limit (with api_key_id)")),
  },
  { minProperties: 1, title: 'LimitsUpdate' },
);

export const UpdateLimitsResponse = Type.Object(
  {
    success: Type.Literal(true),
    message: Type.String(),
    updated_limits: Type.Object({
      monthly_api_limit: Type.Optional(NullableChf('Organization monthly limit')),
      total_api_key_limit: Type.Optional(NullableChf('Limit on all API keys')),
      api_key_id: Type.Optional(Type.String()),
      api_key_limit: Type.Optional(NullableChf("The key's limit")),
    }),
  },
  { title: 'UpdatedLimits', description: 'The limits that were changed' },
);

export const AuthorizeBody = Type.Object(
  {
    organization_id: Type.String({ pattern: ORG_ID_PATTERN }),
    api_key_id: Type.Optional(
      Type.Union([ApiKeyId, Type.Null()], { description: 'The key that will make the request; null for none' }),
    ),
    estimated_cost: Type.Union([ChfAmount], { description: 'Expected cost of the request, CHF' }),
  },
  { title: 'SpendRequest' },
);

export const AuthorizeResponse = Type.Object(
  {
    success: Type.Literal(true),
    allowed: Type.Literal(true),
    reservation_id: Type.String({ description: 'Send it as `reservation_id` with the usage event to settle it' }),
    organization_id: Type.String(),
    api_key_id: Type.Union([Type.String(), Type.Null()]),
    estimated_cost: Chf('Amount reserved'),
    expires_at: Type.String({ format: 'date-time', description: 'When an unsettled reservation frees its amount' }),
    remaining_budget: Type.Object(
      {
        organization: NullableChf('Organization limit'),
        api_keys: NullableChf('All-keys limit'),
        api_key: NullableChf("The key's limit"),
      },
      { description: 'What is left at each tier after this reservation; null where there is no limit' },
    ),
  },
  { title: 'SpendAuthorization', description: 'The spend is allowed and its amount reserved' },
);
