import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.ts';
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

export async function seriesRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  const period = (query: { year?: number; month?: number }) => requestedMonth(query, deps.clock());

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
    async (request) => dailyUsage(deps.storage.db, request.params.org_id, period(request.query)),
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
    async (request) =>
      monthlyUsage(
        deps.storage.db,
        request.params.org_id,
        yearMonthOf(deps.clock()),
        request.query.months ?? DEFAULT_MONTHS,
      ),
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
    async (request) =>
      yearlyUsage(
        deps.storage.db,
        request.params.org_id,
        yearMonthOf(deps.clock()).year,
        request.query.years ?? DEFAULT_YEARS,
      ),
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
    async (request) => apiKeysDaily(deps.storage.db, request.params.org_id, period(request.query), deps.clock()),
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
      return topApiKeys(deps.storage.db, org_id, { year, month }, request.query.limit ?? DEFAULT_TOP_KEYS);
    },
  );
}
