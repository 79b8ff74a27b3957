import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { OrgParams } from '../../http/common.schemas.ts';
import { errorResponses } from '../../http/error-envelope.ts';
import { BreakdownQuerySchema, BreakdownResponse } from './breakdown.schemas.ts';
import { breakdownCsv, usageBreakdown } from './breakdown.service.ts';
import { breakdownQuery } from './breakdown-query.ts';

const READ = { access: { scope: 'read:usage' as const } };
/** The other media type the route answers in (see wantsCsv), for the OpenAPI document. */
const MEDIA = { 'text/csv': 'The rows as CSV: a header line, then one line per row' };

/** CSV when `format=csv`, or when no format is asked for and the client accepts text/csv. */
function wantsCsv(format: string | undefined, accept: string | undefined): boolean {
  return format === 'csv' || (format === undefined && /(^|,)\s*text\/csv\b/i.test(accept ?? ''));
}

export async function breakdownRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();

  routes.get(
    '/v1/analytics/usage/breakdown/:org_id',
    {
      config: { ...READ, media: MEDIA },
      schema: {
        summary: 'Get usage breakdown',
        operationId: 'getUsageBreakdown',
        description:
          'All usage of the organization in a range, per window (UTC hour, day, calendar month, or the whole range) and per group of up to two of model, api_key, end_user and tag:<key>, filtered by model, key (`none`: without a key), end user and one `tag.<key>=<value>`. Per window the `limit` groups with the highest cost (ties: requests, then group values) are rows, the rest one row with `"other": true`, so that the rows add up to `totals`. A group_by the rollups do not serve is a 400 that names those they do. With `format=csv` or `Accept: text/csv` the rows come as CSV (text/csv), header first.',
        tags: ['analytics'],
        params: OrgParams,
        querystring: BreakdownQuerySchema,
        response: { 200: BreakdownResponse, ...errorResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request, reply) => {
      const now = ctx.clock();
      const query = breakdownQuery(request.query, now);
      const breakdown = await usageBreakdown(ctx, request.params.org_id, query, now);
      if (!wantsCsv(request.query.format, request.headers.accept)) return breakdown;
      // A string with its own content type is sent as it is: the JSON schema serializes JSON only.
      return reply.type('text/csv; charset=utf-8').send(breakdownCsv(breakdown) as unknown as typeof breakdown);
    },
  );
}
