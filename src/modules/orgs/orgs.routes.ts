import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { OrgParams } from '../../http/common.schemas.ts';
import { errorResponses } from '../../http/error-envelope.ts';
import { isoSeconds } from '../../time/calendar.ts';
import type { Organization } from './orgs.repository.ts';
import {
  CreateOrganizationBody,
  ListOrganizationsQuery,
  OrganizationList,
  OrganizationResponse,
  RenameOrganizationBody,
} from './orgs.schemas.ts';
import { createOrganization, organizationPage, renameOrganizationTo, requireOrganization } from './orgs.service.ts';

export function organizationView(org: Organization) {
  return { id: org.id, name: org.name, created_at: isoSeconds(org.createdAt) };
}

const ADMIN = { access: { admin: true as const } };
const TAGS = ['organizations'];

export async function orgRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.storage.db;
  routes.post(
    '/v1/organizations',
    {
      config: ADMIN,
      schema: {
        summary: 'Create an organization',
        description: 'Platform admin keys only.',
        tags: TAGS,
        body: CreateOrganizationBody,
        response: { 201: OrganizationResponse, ...errorResponses(400, 401, 403, 413, 415, 500) },
      },
    },
    async (request, reply) => {
      const org = await createOrganization(db, request.body, ctx.clock());
      return reply.code(201).send(organizationView(org));
    },
  );

  routes.get(
    '/v1/organizations',
    {
      config: ADMIN,
      schema: {
        summary: 'List organizations',
        description: 'Platform admin keys only. Oldest first, paginated.',
        tags: TAGS,
        querystring: ListOrganizationsQuery,
        response: { 200: OrganizationList, ...errorResponses(400, 401, 403, 500) },
      },
    },
    async (request) => {
      const { page, page_size: pageSize } = request.query;
      const { organizations, totalCount } = await organizationPage(db, page, pageSize);
      return {
        organizations: organizations.map(organizationView),
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
    '/v1/organizations/:org_id',
    {
      config: ADMIN,
      schema: {
        summary: 'Get an organization',
        description: 'Platform admin keys only.',
        tags: TAGS,
        params: OrgParams,
        response: { 200: OrganizationResponse, ...errorResponses(400, 401, 403, 404, 500) },
      },
    },
    async (request) => organizationView(await requireOrganization(db, request.params.org_id)),
  );

  routes.patch(
    '/v1/organizations/:org_id',
    {
      config: ADMIN,
      schema: {
        summary: 'Rename an organization',
        description: 'Platform admin keys only. The id never changes.',
        tags: TAGS,
        params: OrgParams,
        body: RenameOrganizationBody,
        response: { 200: OrganizationResponse, ...errorResponses(400, 401, 403, 404, 413, 415, 500) },
      },
    },
    async (request) => organizationView(await renameOrganizationTo(db, request.params.org_id, request.body.name)),
  );
}
