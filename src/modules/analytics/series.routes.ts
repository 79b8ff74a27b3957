import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { MonthQuery, OrgParams } from '../../http/common.schemas.ts';
import { errorResponses } from '../../http/error-envelope.ts';
import { requestedMonth, yearMonthOf } from '../../time/calendar.ts';
import {
  ApiKeysDailyResponse,
  DailyUsageResponse,
  DEFAULT_MONTHS,
  DEFAULT_TOP_KEYS,
  DEFAULT_YEARS,
  MonthlyUsageResponse,
  MonthsQuery,
  TopKeysParams,
  TopKeysQuery,
  TopKeysResponse,
  YearlyUsageResponse,
  YearsQuery,
} from './series.schemas.ts';
import { apiKeysDaily, dailyUsage, monthlyUsage, topApiKeys, yearlyUsage } from './series.service.ts';

const READ = { access: { scope: 'read:usage' as const } };
const ERRORS = errorResponses(400, 401, 403, 404, 500);
const TOKENS_NOTE =
  '`total_tokens` is the documented approximation neurons × 10 + synapses × 10 (1 neuron ≈ 10 input tokens, 1 synapse ≈ 10 output tokens).';
const GROWTH_NOTE =
  "`growth_rate_percent` is the change of cost against the previous entry's, null for the oldest entry or after an entry without cost.";

export async function seriesRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  const period = (query: { year?: number; month?: number }) => requestedMonth(query, ctx.clock());

  routes.get(
    '/v1/analytics/usage/daily/:org_id',
    {
      config: READ,
      schema: {
        summary: 'Get daily usage',
        description:
          'All usage of the organization (with or without an API key) per UTC day of one month, every day listed.',
        tags: ['analytics'],
        params: OrgParams,
        querystring: MonthQuery,
        response: { 200: DailyUsageResponse, ...ERRORS },
      },
    },
    async (request) => {
      const month = period(request.query);
      return dailyUsage(ctx, request.params.org_id, month);
    },
  );

  routes.get(
    '/v1/analytics/usage/monthly/:org_id',
    {
      config: READ,
      schema: {
        summary: 'Get monthly usage',
        description: `All usage of the organization per UTC month, ending with the current month. ${TOKENS_NOTE} ${GROWTH_NOTE}`,
        tags: ['analytics'],
        params: OrgParams,
        querystring: MonthsQuery,
        response: { 200: MonthlyUsageResponse, ...ERRORS },
      },
    },
    async (request) => {
      const current = yearMonthOf(ctx.clock());
      const months = request.query.months ?? DEFAULT_MONTHS;
      return monthlyUsage(ctx, request.params.org_id, current, months);
    },
  );

  routes.get(
    '/v1/analytics/usage/yearly/:org_id',
    {
      config: READ,
      schema: {
        summary: 'Get yearly usage',
        description: `All usage of the organization per UTC year, ending with the current year. ${TOKENS_NOTE} ${GROWTH_NOTE}`,
        tags: ['analytics'],
        params: OrgParams,
        querystring: YearsQuery,
        response: { 200: YearlyUsageResponse, ...ERRORS },
      },
    },
    async (request) => {
      const { year } = yearMonthOf(ctx.clock());
      const years = request.query.years ?? DEFAULT_YEARS;
      return yearlyUsage(ctx, request.params.org_id, year, years);
    },
  );

  routes.get(
    '/v1/analytics/api-keys/daily/:org_id',
    {
      config: READ,
      schema: {
        summary: 'Get daily API key usage',
        description:
          'API-key usage (programmatic access only) per UTC day of one month, every day listed, with the month summary.',
        tags: ['analytics'],
        params: OrgParams,
        querystring: MonthQuery,
        response: { 200: ApiKeysDailyResponse, ...ERRORS },
      },
    },
    async (request) => apiKeysDaily(ctx, request.params.org_id, period(request.query), ctx.clock()),
  );

  routes.get(
    '/v1/analytics/:org_id/api-keys/top/:month/:year',
    {
      config: READ,
      schema: {
        summary: 'Get top API keys',
        description:
          'The API keys with the most cost in one UTC month, then the most requests, then by id. Note the path order: month, then year.',
        tags: ['analytics'],
        params: TopKeysParams,
        querystring: TopKeysQuery,
        response: { 200: TopKeysResponse, ...ERRORS },
      },
    },
    async (request) => {
      const { org_id, month, year } = request.params;
      const limit = request.query.limit ?? DEFAULT_TOP_KEYS;
      return topApiKeys(ctx, org_id, { year, month }, limit);
    },
  );
}
