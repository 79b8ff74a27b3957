/** `GET /v1/me`: the calling key describes itself, so that a client can tell what it may read before asking. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { errorResponses } from '../../http/error-envelope.ts';
import { principalOf } from '../../http/request-principal.ts';
import { MeResponse } from './me.schemas.ts';
import { describeCaller } from './me.service.ts';

export async function meRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();

  routes.get(
    '/v1/me',
    {
      config: { access: { authenticated: true } },
      schema: {
        summary: 'Describe the calling key',
        description:
          'Any valid key. An API key learns its organization, id, name and scopes; a platform admin key its id and name. Never the secret.',
        tags: ['auth'],
        response: { 200: MeResponse, ...errorResponses(401, 500) },
      },
    },
    async (request) => {
      const caller = await describeCaller(ctx.storage.db, principalOf(request));
      if (caller.kind === 'admin') {
        return { kind: caller.kind, admin_key_id: caller.adminKeyId, key_name: caller.name };
      }
      return {
        kind: caller.kind,
        organization_id: caller.organizationId,
        api_key_id: caller.apiKeyId,
        key_name: caller.name,
        scopes: caller.scopes,
      };
    },
  );
}
