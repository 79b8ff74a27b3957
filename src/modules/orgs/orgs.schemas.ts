import { Type } from '@sinclair/typebox';
import { ORG_ID_PATTERN, Pagination } from '../../http/common.schemas.ts';

const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });

export const CreateOrganizationBody = Type.Object(
  {
    name: Name,
    id: Type.Optional(
      Type.String({
        pattern: ORG_ID_PATTERN,
        description: 'Keep an existing id (e.g. when moving from another system); generated when absent',
      }),
    ),
  },
  { title: 'NewOrganization' },
);

export const OrganizationResponse = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
  },
  { title: 'Organization', description: 'An organization' },
);

export const RenameOrganizationBody = Type.Object(
  { name: Name },
  { additionalProperties: false, title: 'OrganizationRename' },
);

export const ListOrganizationsQuery = Type.Object({
  page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
  page_size: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
});

export const OrganizationList = Type.Object(
  {
    organizations: Type.Array(OrganizationResponse),
    pagination: Pagination,
  },
  { title: 'OrganizationList', description: 'One page of organizations' },
);
