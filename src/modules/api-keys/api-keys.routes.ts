import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.ts';
import { AppError } from '../../errors.ts';
import { OrgParams } from '../../http/common.schemas.ts';
import { errorResponses } from '../../http/error-envelope.ts';
import { nanoToChf, parseChf } from '../../money/chf.ts';
import { isoSeconds } from '../../time/calendar.ts';
import type { ApiKey } from './api-keys.repository.ts';
import { CreateApiKeyBody, CreatedApiKey } from './api-keys.schemas.ts';
import { createApiKey } from './api-keys.service.ts';

export function apiKeyView(key: ApiKey) {
  return {
    id: key.id,
    key_prefix: key.keyPrefix,
    organization_id: key.organizationId,
    key_name: key.name,
    is_active: key.state === 'active',
    usage_limit_chf: key.monthlyLimitNano === null ? null : nanoToChf(key.monthlyLimitNano),
    scopes: key.scopes,
    created_at: isoSeconds(key.createdAt),
    expires_at: key.expiresAt === null ? null : isoSeconds(key.expiresAt),
    last_used_at: key.lastUsedAt === null ? null : isoSeconds(key.lastUsedAt),
  };
}

/** A monthly limit from a request: positive CHF, or null for none. */
export function limitFromInput(field: string, value: number | string | null | undefined): bigint | null | undefined {
  if (value === undefined || value === null) return value;
  const nano = parseChf(value);
  if (nano === undefined || nano <= 0n) {
    throw new AppError('INVALID_REQUEST', {
      message: 'Invalid request body',
      systemMessage: `${field} must be a CHF amount greater than 0, or null`,
      details: { errors: [{ field, reason: 'must be a CHF amount greater than 0, or null' }] },
    });
  }
  return nano;
}

export async function apiKeyRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  routes.post(
    '/v1/organizations/:org_id/api-keys',
    {
      config: { access: { scope: 'manage:keys' } },
      schema: {
        summary: 'Create an API key',
        description: 'The answer holds the secret as `key`, this once.',
        tags: ['api-keys'],
        params: OrgParams,
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKey, ...errorResponses(400, 401, 403, 404, 413, 415, 500) },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const { apiKey, secret } = await createApiKey(
        deps.storage.db,
        request.params.org_id,
        {
          name: body.key_name,
          scopes: body.scopes,
          monthlyLimitNano: limitFromInput('usage_limit_chf', body.usage_limit_chf),
          expiresAt: body.expires_at ? Date.parse(body.expires_at) : null,
        },
        deps.clock(),
      );
      return reply.code(201).send({ ...apiKeyView(apiKey), key: secret });
    },
  );
}
