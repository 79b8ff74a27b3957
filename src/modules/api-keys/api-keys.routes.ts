import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { invalidRequest } from '../../errors.ts';
import { OrgParams } from '../../http/common.schemas.ts';
import { errorResponses } from '../../http/error-envelope.ts';
import { principalOf } from '../../http/request-principal.ts';
import { NANO_PER_CHF, nanoToChf, parseChf } from '../../money/chf.ts';
import { isoSeconds, parseIsoTime } from '../../time/calendar.ts';
import type { ApiKey } from './api-keys.repository.ts';
import {
  ApiKeyList,
  ApiKeyParams,
  ApiKeyResource,
  CreateApiKeyBody,
  CreatedApiKey,
  DeletedApiKey,
  ListApiKeysQuery,
  UpdateApiKeyBody,
} from './api-keys.schemas.ts';
import {
  changeApiKey,
  createApiKey,
  listOrganizationKeys,
  requireManagedKey,
  setApiKeyState,
} from './api-keys.service.ts';

export function apiKeyView(key: ApiKey) {
  return {
    id: key.id,
    key_prefix: key.keyPrefix,
    organization_id: key.organizationId,
    key_name: key.name,
    is_active: key.state === 'active',
    state: key.state,
    usage_limit_chf: key.monthlyLimitNano === null ? null : nanoToChf(key.monthlyLimitNano),
    scopes: key.scopes,
    created_at: isoSeconds(key.createdAt),
    expires_at: key.expiresAt === null ? null : isoSeconds(key.expiresAt),
    last_used_at: key.lastUsedAt === null ? null : isoSeconds(key.lastUsedAt),
  };
}

const MAX_LIMIT_NANO = 1_000_000_000n * NANO_PER_CHF;

/** A monthly limit from a request: positive CHF, or null for none. */
export function limitFromInput(field: string, value: number | string | null | undefined): bigint | null | undefined {
  if (value === undefined || value === null) return value;
  const nano = parseChf(value);
  // The upper bound keeps the limit inside the 64-bit column it is stored in.
  if (nano === undefined || nano <= 0n || nano > MAX_LIMIT_NANO) {
    throw invalidRequest('Invalid request body', [
      { field, reason: 'must be a CHF amount greater than 0 and at most 1000000000, or null' },
    ]);
  }
  return nano;
}

const MANAGE = { access: { scope: 'manage:keys' as const } };

const STATE_ROUTES = {
  activate: {
    summary: 'Activate an API key',
    description: 'Ends a pause or a deactivation. A deleted key cannot be activated again (404 API_KEY_NOT_FOUND).',
  },
  deactivate: {
    summary: 'Deactivate an API key',
    description: 'The key answers 401 API_KEY_DEACTIVATED until it is activated again.',
  },
  pause: {
    summary: 'Pause an API key',
    description:
      'The key answers 401 API_KEY_PAUSED on every route, and the budget check refuses it, until it is activated again.',
  },
};
const TAGS = ['api-keys'];

export async function apiKeyRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.storage.db;
  routes.post(
    '/v1/organizations/:org_id/api-keys',
    {
      config: MANAGE,
      schema: {
        summary: 'Create an API key',
        description:
          'The answer holds the secret as `key`, this once. A key grants only scopes it holds itself (platform admin keys grant any); `scopes` left out means read:usage and write:usage, which the caller must then hold. Otherwise 403 INSUFFICIENT_PERMISSIONS with `details.scopes_not_held`.',
        tags: TAGS,
        params: OrgParams,
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKey, ...errorResponses(400, 401, 403, 404, 413, 415, 500) },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const { apiKey, secret } = await createApiKey(
        db,
        request.params.org_id,
        {
          name: body.key_name,
          scopes: body.scopes,
          monthlyLimitNano: limitFromInput('usage_limit_chf', body.usage_limit_chf),
          expiresAt: body.expires_at ? parseIsoTime(body.expires_at) : null,
          createdAt: body.created_at === undefined ? undefined : parseIsoTime(body.created_at),
        },
        ctx.clock(),
        principalOf(request),
      );
      return reply.code(201).send({ ...apiKeyView(apiKey), key: secret });
    },
  );

  routes.get(
    '/v1/organizations/:org_id/api-keys',
    {
      config: MANAGE,
      schema: {
        summary: 'List API keys',
        description:
          'Newest first, paginated. Deleted keys only with `include_deleted=true`. Secrets are never listed.',
        tags: TAGS,
        params: OrgParams,
        querystring: ListApiKeysQuery,
        response: { 200: ApiKeyList, ...errorResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request) => {
      const { page, page_size: pageSize, include_deleted: includeDeleted } = request.query;
      const { keys, totalCount } = await listOrganizationKeys(db, request.params.org_id, {
        page,
        pageSize,
        includeDeleted,
      });
      return {
        api_keys: keys.map(apiKeyView),
        pagination: {
          page,
          page_size: pageSize,
          total_count: totalCount,
          total_pages: Math.ceil(totalCount / pageSize),
        },
      };
    },
  );

  routes.get(
    '/v1/organizations/:org_id/api-keys/:key_id',
    {
      config: MANAGE,
      schema: {
        summary: 'Get an API key',
        tags: TAGS,
        params: ApiKeyParams,
        response: { 200: ApiKeyResource, ...errorResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request) => apiKeyView(await requireManagedKey(db, request.params.org_id, request.params.key_id)),
  );

  routes.patch(
    '/v1/organizations/:org_id/api-keys/:key_id',
    {
      config: MANAGE,
      schema: {
        summary: 'Update an API key',
        description:
          'Name, scopes, monthly limit and expiry; fields left out stay as they are, null clears. New `scopes` may name only scopes the caller holds (any, for platform admin keys); otherwise 403 INSUFFICIENT_PERMISSIONS with `details.scopes_not_held`.',
        tags: TAGS,
        params: ApiKeyParams,
        body: UpdateApiKeyBody,
        response: { 200: ApiKeyResource, ...errorResponses(400, 401, 403, 404, 413, 415, 500) },
      },
    },
    async (request) => {
      const { body, params } = request;
      const key = await changeApiKey(
        db,
        params.org_id,
        params.key_id,
        {
          name: body.key_name,
          scopes: body.scopes,
          monthlyLimitNano: limitFromInput('usage_limit_chf', body.usage_limit_chf),
          expiresAt:
            body.expires_at === undefined || body.expires_at === null ? body.expires_at : parseIsoTime(body.expires_at),
        },
        principalOf(request),
      );
      return apiKeyView(key);
    },
  );

  routes.delete(
    '/v1/organizations/:org_id/api-keys/:key_id',
    {
      config: MANAGE,
      schema: {
        summary: 'Delete an API key',
        description:
          'Soft delete: the key stops authenticating at once and cannot be activated again; its usage stays readable. Usage events dated from the deletion on that name the key are refused (400); earlier ones are still accepted.',
        tags: TAGS,
        params: ApiKeyParams,
        response: { 200: DeletedApiKey, ...errorResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request) => {
      const key = await setApiKeyState(ctx, request.params.org_id, request.params.key_id, 'deleted', ctx.clock());
      return { success: true as const, message: 'API key deleted', api_key_id: key.id };
    },
  );

  for (const [action, state] of [
    ['activate', 'active'],
    ['deactivate', 'deactivated'],
    ['pause', 'paused'],
  ] as const) {
    routes.post(
      `/v1/organizations/:org_id/api-keys/:key_id/${action}`,
      {
        config: MANAGE,
        schema: {
          summary: STATE_ROUTES[action].summary,
          description: STATE_ROUTES[action].description,
          tags: TAGS,
          params: ApiKeyParams,
          response: { 200: ApiKeyResource, ...errorResponses(400, 401, 403, 404, 500) },
        },
      },
      async (request) =>
        apiKeyView(await setApiKeyState(ctx, request.params.org_id, request.params.key_id, state, ctx.clock())),
    );
  }
}
