/**
 * Response shapes of the analytics routes, field for field as the Freddy Analytics API
 * documents them (camelCase and snake_case mixed as published). `Type.Number` fields are
 * written as floats (`6250.0`), `Type.Integer` fields as integers.
 */
import { Type } from '@sinclair/typebox';
import { ApiKeyId, OrgId } from '../../http/common.schemas.ts';

const Chf = (description: string) => Type.Number({ description: `${description}, CHF rounded to 6 decimals` });
const Average = Type.Number({ description: 'CHF per request, rounded to 2 decimals; 0 without requests' });

export const UsageSummaryResponse = Type.Object(
  {
    organization_id: Type.String(),
    totalRequests: Type.Integer(),
    total_synapses: Type.Number(),
    totalNeurons: Type.Number(),
    totalCost: Chf('All-time cost'),
    averageCostPerRequest: Average,
    topModels: Type.Array(
      Type.Object({
        model: Type.String(),
        cost: Chf('All-time cost of the model'),
        requests: Type.Integer(),
        percentage: Type.Number({ description: "The model's share of total cost, %, 2 decimals" }),
      }),
      { description: 'Up to 5 models by cost' },
    ),
    currentMonth: Type.Object({ cost: Chf('Cost this UTC month'), requests: Type.Integer() }),
    timeRange: Type.Object({
      start: Type.String({
        format: 'date',
        description: 'UTC date of the first event (organization creation date if none)',
      }),
      end: Type.String({ format: 'date', description: 'Today (UTC)' }),
      period: Type.Literal('all_time'),
    }),
  },
  {
    title: 'UsageSummary',
    description: 'All usage of the organization: all-time totals, top models and the current month',
  },
);

export const ApiKeysSummaryResponse = Type.Object(
  {
    organization_id: Type.String(),
    month: Type.Integer(),
    year: Type.Integer(),
    totalApiKeyRequests: Type.Integer(),
    totalApiKeyCost: Chf('Cost of all API-key usage in the month'),
    averageCostPerRequest: Average,
    total_synapses: Type.Number(),
    totalNeurons: Type.Number(),
    generatedAt: Type.String({ format: 'date-time' }),
  },
  { title: 'ApiKeysSummary', description: 'Usage made with API keys (programmatic access only) in one month' },
);

export const ApiKeyUsageParams = Type.Object({ org_id: OrgId, api_key_id: ApiKeyId });

export const ApiKeyUsageResponse = Type.Object(
  {
    apiKeyId: Type.String(),
    apiKeyName: Type.String(),
    organizationId: Type.String(),
    month: Type.Integer(),
    year: Type.Integer(),
    usage: Type.Object({
      totalRequests: Type.Integer(),
      totalCost: Chf('Cost of the key in the month'),
      totalSynapses: Type.Integer(),
      totalNeurons: Type.Integer(),
      averageCostPerRequest: Average,
    }),
    limit: Type.Object({
      monthlyLimit: Type.Union([Type.Number(), Type.Null()], {
        description: 'CHF; null when the key has no limit',
      }),
      utilizationPercentage: Type.Union([Type.Number(), Type.Null()]),
      remainingBudget: Type.Union([Type.Number(), Type.Null()], { description: 'CHF, never below 0' }),
      status: Type.Union(
        [Type.Literal('ok'), Type.Literal('warning'), Type.Literal('exceeded'), Type.Literal('no_limit')],
        {
          description: 'ok below 80 % of the limit, warning from 80 %, exceeded from 100 %, no_limit without a limit',
        },
      ),
    }),
  },
  { title: 'ApiKeyUsage', description: "One API key's usage in one month and its budget status" },
);
