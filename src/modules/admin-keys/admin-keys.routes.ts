/** Routes of platform admin keys: list, create, get, delete and rotate. Admin keys only. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { errorResponses } from '../../http/error-envelope.ts';
import { isoSeconds } from '../../time/calendar.ts';
import type { AdminKey } from './admin-keys.repository.ts';
import {
  AdminKeyList,
  AdminKeyParams,
  AdminKeyResource,
  CreateAdminKeyBody,
  CreatedAdminKey,
  DeletedAdminKey,
  ListAdminKeysQuery,
  RotatedAdminKey,
} from './admin-keys.schemas.ts';
import {
  createAdminKey,
  deleteAdminKey,
  listAdminKeyPage,
  requireAdminKey,
  rotateAdminKey,
} from './admin-keys.service.ts';

/** What a listing shows of a key: never the secret (not stored) nor its hash. */
export function adminKeyView(key: AdminKey) {
  return {
    id: key.id,
    key_prefix: key.keyPrefix,
    key_name: key.name,
    state: key.state,
    created_at: isoSeconds(key.createdAt),
    last_used_at: key.lastUsedAt === null ? null : isoSeconds(key.lastUsedAt),
    deleted_at: key.deletedAt === null ? null : isoSeconds(key.deletedAt),
  };
}

const ADMIN = { access: { admin: true as const } };
const TAGS = ['admin-keys'];

export async function adminKeyRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  const { storage } = ctx;

  routes.get(
    '/v1/admin-keys',
    {
      config: ADMIN,
      schema: {
        summary: 'List platform admin keys',
        description: 'Newest first, paginated. Deleted keys only with `include_deleted=true`. Never secrets or hashes.',
        tags: TAGS,
        querystring: ListAdminKeysQuery,
        response: { 200: AdminKeyList, ...errorResponses(400, 401, 403, 500) },
      },
    },
    async (request) => {
      const { page, page_size: pageSize, include_deleted: includeDeleted } = request.query;
      const { keys, totalCount } = await listAdminKeyPage(storage.db, { page, pageSize, includeDeleted });
      return {
        admin_keys: keys.map(adminKeyView),
        pagination: {
          page,
          page_size: pageSize,
          total_count: totalCount,
          total_pages: Math.ceil(totalCount / pageSize),
        },
      };
    },
  );

  routes.post(
    '/v1/admin-keys',
    {
      config: ADMIN,
      schema: {
        summary: 'Create a platform admin key',
        description: 'The answer holds the secret as `key`, this once.',
        tags: TAGS,
        body: CreateAdminKeyBody,
        response: { 201: CreatedAdminKey, ...errorResponses(400, 401, 403, 413, 415, 500) },
      },
    },
    async (request, reply) => {
      const { adminKey, secret } = await createAdminKey(storage.db, request.body.key_name, ctx.clock());
      return reply.code(201).send({ ...adminKeyView(adminKey), key: secret });
    },
  );

  routes.get(
    '/v1/admin-keys/:key_id',
    {
      config: ADMIN,
      schema: {
        summary: 'Get a platform admin key',
        description: 'A deleted key is 404 API_KEY_NOT_FOUND here; the listing shows it with `include_deleted=true`.',
        tags: TAGS,
        params: AdminKeyParams,
        response: { 200: AdminKeyResource, ...errorResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request) => adminKeyView(await requireAdminKey(storage.db, request.params.key_id)),
  );

  routes.delete(
    '/v1/admin-keys/:key_id',
    {
      config: ADMIN,
      schema: {
        summary: 'Delete a platform admin key',
        description:
          'The key stops authenticating at once on this server, and within 5 seconds on other replicas. The last active admin key is not deleted over HTTP (409 CONFLICT): create another first; only the CLI deletes the last one, with `keys delete --admin ID --force`.',
        tags: TAGS,
        params: AdminKeyParams,
        response: { 200: DeletedAdminKey, ...errorResponses(400, 401, 403, 404, 409, 500) },
      },
    },
    async (request) => {
      const { adminKey } = await deleteAdminKey(storage, request.params.key_id, ctx.clock(), { allowLast: false });
      return { success: true as const, message: 'Admin key deleted', admin_key_id: adminKey.id };
    },
  );

  routes.post(
    '/v1/admin-keys/:key_id/rotate',
    {
      config: ADMIN,
      schema: {
        summary: 'Rotate a platform admin key',
        description:
          'Creates a key with the same name and deletes this one, in one transaction. The answer holds the new secret as `key`, this once; the old secret stops authenticating as a deleted key does.',
        tags: TAGS,
        params: AdminKeyParams,
        response: { 201: RotatedAdminKey, ...errorResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request, reply) => {
      const { adminKey, secret, replaced } = await rotateAdminKey(storage, request.params.key_id, ctx.clock());
      return reply.code(201).send({ ...adminKeyView(adminKey), key: secret, replaced_key_id: replaced.id });
    },
  );
}
