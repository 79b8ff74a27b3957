import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { MonthQuery, OrgParams } from '../../http/common.schemas.ts';
import { errorResponses } from '../../http/error-envelope.ts';
import { requestedMonth } from '../../time/calendar.ts';
import {
  ApiKeysSummaryResponse,
  ApiKeyUsageParams,
  ApiKeyUsageResponse,
  UsageSummaryResponse,
} from './analytics.schemas.ts';
import { apiKeysSummary, apiKeyUsage, usageSummary } from './analytics.service.ts';

const READ = { access: { scope: 'read:usage' as const } };

export async function analyticsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  const period = (query: { year?: number; month?: number }) => requestedMonth(query, ctx.clock());

  routes.get(
    '/v1/analytics/usage/summary/:org_id',
    {
      config: READ,
      schema: {
        summary: 'Get usage summary',
        description: 'All-time totals and top models of all usage of the organization, with or without an API key.',
        tags: ['analytics'],
        params: OrgParams,
        response: { 200: UsageSummaryResponse, ...errorResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request) => usageSummary(ctx, request.params.org_id, ctx.clock()),
  );

  routes.get(
    '/v1/analytics/api-keys/summary/:org_id',
    {
      config: READ,
      schema: {
        summary: 'Get API key usage summary',
        description: 'Monthly summary of API key usage (programmatic access only).',
        tags: ['analytics'],
        params: OrgParams,
        querystring: MonthQuery,
        response: { 200: ApiKeysSummaryResponse, ...errorResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request) => apiKeysSummary(ctx, request.params.org_id, period(request.query), ctx.clock()),
  );

  routes.get(
    '/v1/analytics/api-keys/usage/:org_id/:api_key_id',
    {
      config: READ,
      schema: {
        summary: 'Get API key usage',
        description: 'One API key in one month: usage totals and its budget status.',
        tags: ['analytics'],
        params: ApiKeyUsageParams,
        querystring: MonthQuery,
        response: { 200: ApiKeyUsageResponse, ...errorResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request) => apiKeyUsage(ctx, request.params.org_id, request.params.api_key_id, period(request.query)),
  );
}
