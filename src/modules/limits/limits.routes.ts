/** Routes of spend limits (read and change) and of the gateway budget check. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { AppError, invalidRequest } from '../../errors.ts';
import { MonthQuery, OrgParams } from '../../http/common.schemas.ts';
import { errorResponses } from '../../http/error-envelope.ts';
import { principalOf } from '../../http/request-principal.ts';
import { MAX_EVENT_COST_NANO, nanoToChf, parseChf } from '../../money/chf.ts';
import { requestedMonth } from '../../time/calendar.ts';
import { limitFromInput } from '../api-keys/api-keys.routes.ts';
import { canActOn } from '../auth/principal.ts';
import { authorizeSpend } from './authorize.service.ts';
import {
  AuthorizeBody,
  AuthorizeResponse,
  LimitsResponse,
  UpdateLimitsBody,
  UpdateLimitsResponse,
} from './limits.schemas.ts';
import { updateLimits, usageLimits } from './limits.service.ts';

const chfOrNull = (nano: bigint | null | undefined) => (nano === undefined || nano === null ? nano : nanoToChf(nano));

export async function limitsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();

  routes.get(
    '/v1/analytics/usage/limits/:org_id',
    {
      config: { access: { scope: 'read:usage' } },
      schema: {
        summary: 'Get usage limits',
        description:
          'Limits and spend of one UTC month on three tiers: the organization, all API keys together, each key.',
        tags: ['limits'],
        params: OrgParams,
        querystring: MonthQuery,
        response: { 200: LimitsResponse, ...errorResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request) => {
      const period = requestedMonth(request.query, ctx.clock());
      return usageLimits(ctx, request.params.org_id, period);
    },
  );

  routes.put(
    '/v1/analytics/usage/limits/:org_id',
    {
      config: { access: { scope: 'manage:keys' } },
      schema: {
        summary: 'Update usage limits',
        description:
          'Any of the limits; all or nothing. total_api_key_limit may not exceed monthly_api_limit (given or stored).',
        tags: ['limits'],
        params: OrgParams,
        body: UpdateLimitsBody,
        response: { 200: UpdateLimitsResponse, ...errorResponses(400, 401, 403, 404, 413, 415, 500) },
      },
    },
    async (request) => {
      const { body } = request;
      const update = {
        monthlyNano: limitFromInput('monthly_api_limit', body.monthly_api_limit),
        apiKeysNano: limitFromInput('total_api_key_limit', body.total_api_key_limit),
        apiKeyId: body.api_key_id,
        apiKeyLimitNano: limitFromInput('api_key_limit', body.api_key_limit),
      };
      await updateLimits(ctx.storage, request.params.org_id, update);
      return {
        success: true as const,
        message: 'Limits updated',
        updated_limits: {
          monthly_api_limit: chfOrNull(update.monthlyNano),
          total_api_key_limit: chfOrNull(update.apiKeysNano),
          api_key_id: update.apiKeyId,
          api_key_limit: chfOrNull(update.apiKeyLimitNano),
        },
      };
    },
  );

  routes.post(
    '/v1/usage/authorize',
    {
      config: { access: { scope: 'write:usage' } },
      schema: {
        summary: 'Authorize spend (budget check)',
        description:
          "Checks the organization limit, the all-keys limit and the key limit against this month's spend plus open reservations, and reserves the estimated cost. Refusal: 429 USAGE_LIMIT_EXCEEDED naming the tier. A paused, deactivated, deleted or expired `api_key_id` is refused with the 401 that key gets when it authenticates (API_KEY_PAUSED, API_KEY_DEACTIVATED, INVALID_API_KEY, API_KEY_EXPIRED), with `details.api_key_id`.",
        tags: ['limits'],
        body: AuthorizeBody,
        response: { 200: AuthorizeResponse, ...errorResponses(400, 401, 403, 404, 413, 415, 429, 500) },
      },
    },
    async (request) => {
      const { body } = request;
      if (!canActOn(principalOf(request), body.organization_id)) {
        throw new AppError('ORGANIZATION_ACCESS_DENIED', { details: { organization_id: body.organization_id } });
      }
      const estimatedNano = parseChf(body.estimated_cost);
      if (estimatedNano === undefined || estimatedNano > MAX_EVENT_COST_NANO) {
        throw invalidRequest('Invalid request body', [
          { field: 'estimated_cost', reason: 'must be a CHF amount from 0 to 1000000' },
        ]);
      }
      return authorizeSpend(
        ctx.storage,
        { organizationId: body.organization_id, apiKeyId: body.api_key_id ?? null, estimatedNano },
        ctx.clock(),
        ctx.config.reservationTtlSeconds,
      );
    },
  );
}
