import { Type } from '@sinclair/typebox';
import { Pagination } from '../../http/common.schemas.ts';
import { CreateApiKeyBody, ListApiKeysQuery } from '../api-keys/api-keys.schemas.ts';

export const AdminKeyParams = Type.Object({
  key_id: Type.String({
    pattern: '^admin_[A-Za-z0-9_-]{1,64}$',
    description: 'Platform admin key id (`admin_…`)',
    examples: ['admin_3k9x2m5q8r1t4v7w0y6z'],
  }),
});

export const CreateAdminKeyBody = Type.Object(
  { key_name: CreateApiKeyBody.properties.key_name },
  { title: 'NewAdminKey' },
);

export const AdminKeyResource = Type.Object(
  {
    id: Type.String(),
    key_prefix: Type.String({ description: 'The public start of the secret' }),
    key_name: Type.String(),
    state: Type.Union([Type.Literal('active'), Type.Literal('deleted')]),
    created_at: Type.String({ format: 'date-time' }),
    last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    deleted_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { title: 'AdminKey', description: 'A platform admin key (never its secret)' },
);

export const CreatedAdminKey = Type.Composite(
  [
    AdminKeyResource,
    Type.Object({ key: Type.String({ description: 'The secret. Shown this once; only its hash is stored.' }) }),
  ],
  { title: 'CreatedAdminKey', description: 'The new platform admin key, with its secret (shown this once)' },
);

export const RotatedAdminKey = Type.Composite(
  [
    CreatedAdminKey,
    Type.Object({ replaced_key_id: Type.String({ description: 'The key this one replaces, now deleted' }) }),
  ],
  { title: 'RotatedAdminKey', description: 'The replacement key, with its secret (shown this once)' },
);

export const ListAdminKeysQuery = ListApiKeysQuery;

export const AdminKeyList = Type.Object(
  {
    admin_keys: Type.Array(AdminKeyResource),
    pagination: Pagination,
  },
  { title: 'AdminKeyList', description: 'One page of platform admin keys' },
);

export const DeletedAdminKey = Type.Object(
  {
    success: Type.Literal(true),
    message: Type.String(),
    admin_key_id: Type.String(),
  },
  { title: 'DeletedAdminKey', description: 'The platform admin key is deleted' },
);
