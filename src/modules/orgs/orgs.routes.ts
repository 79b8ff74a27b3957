import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.ts';
import { errorResponses } from '../../http/error-envelope.ts';
import { isoSeconds } from '../../time/calendar.ts';
import type { Organization } from './orgs.repository.ts';
import { CreateOrganizationBody, OrganizationResponse } from './orgs.schemas.ts';
import { createOrganization } from './orgs.service.ts';

export function organizationView(org: Organization) {
  return { id: org.id, name: org.name, created_at: isoSeconds(org.createdAt) };
}

export async function orgRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  routes.post(
    '/v1/organizations',
    {
      config: { access: { admin: true } },
      schema: {
        summary: 'Create an organization',
        description: 'Platform admin keys only.',
        tags: ['organizations'],
        body: CreateOrganizationBody,
        response: { 201: OrganizationResponse, ...errorResponses(400, 401, 403, 413, 415, 500) },
      },
    },
    async (request, reply) => {
      const org = await createOrganization(deps.storage.db, request.body, deps.clock());
      return reply.code(201).send(organizationView(org));
    },
  );
}
