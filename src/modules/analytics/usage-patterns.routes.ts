import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { OrgParams } from '../../http/common.schemas.ts';
import { errorResponses } from '../../http/error-envelope.ts';
import {
  DEFAULT_HEATMAP_DAYS,
  DEFAULT_TREND_MONTHS,
  HeatmapQuery,
  HeatmapResponse,
  HourlyQuery,
  HourlyUsageResponse,
  TrendsQuery,
  TrendsResponse,
} from './usage-patterns.schemas.ts';
import { hourlyUsage, usageHeatmap, usageTrends } from './usage-patterns.service.ts';

const READ = { access: { scope: 'read:usage' as const } };
const ERRORS = errorResponses(400, 401, 403, 404, 500);
const METRIC_NOTE =
  '`metric` `neurons` or `synapses`; absent, the values are neurons + synapses (and `metric` is null).';

export async function usagePatternRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();

  routes.get(
    '/v1/analytics/usage/hourly/:org_id',
    {
      config: READ,
      schema: {
        summary: 'Get hourly usage',
        description:
          'All usage of the organization in each of the 24 UTC hours of one day, quiet hours included. `date` is required, from 2000-01-01 to tomorrow (UTC).',
        tags: ['analytics'],
        params: OrgParams,
        querystring: HourlyQuery,
        response: { 200: HourlyUsageResponse, ...ERRORS },
      },
    },
    async (request) => hourlyUsage(ctx, request.params.org_id, request.query.date, ctx.clock()),
  );

  routes.get(
    '/v1/analytics/usage/heatmap/:org_id',
    {
      config: READ,
      schema: {
        summary: 'Get usage heatmap',
        description: `Usage of the last \`days\` UTC days (today included) summed by weekday and UTC hour, with the peak cells, the peak weekday and hour, and the quiet weekdays. ${METRIC_NOTE}`,
        tags: ['analytics'],
        params: OrgParams,
        querystring: HeatmapQuery,
        response: { 200: HeatmapResponse, ...ERRORS },
      },
    },
    async (request) => {
      const { days = DEFAULT_HEATMAP_DAYS, metric } = request.query;
      return usageHeatmap(ctx, request.params.org_id, days, metric ?? null, ctx.clock());
    },
  );

  routes.get(
    '/v1/analytics/usage/trends/:org_id',
    {
      config: READ,
      schema: {
        summary: 'Get usage trends',
        description: `The value of each of the last \`months\` calendar months (the current one included), the compound monthly growth, a least-squares forecast through the complete months with its confidence, and the patterns: growth, decline or stable, and weekday/weekend seasonality. ${METRIC_NOTE}`,
        tags: ['analytics'],
        params: OrgParams,
        querystring: TrendsQuery,
        response: { 200: TrendsResponse, ...ERRORS },
      },
    },
    async (request) => {
      const { months = DEFAULT_TREND_MONTHS, metric } = request.query;
      return usageTrends(ctx, request.params.org_id, months, metric ?? null, ctx.clock());
    },
  );
}
