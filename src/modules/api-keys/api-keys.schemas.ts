import { Type } from '@sinclair/typebox';
import { ApiKeyId, ChfAmount, OrgId, Pagination } from '../../http/common.schemas.ts';
import { SCOPES } from './scopes.ts';

const ScopeSchema = Type.Union(SCOPES.map((s) => Type.Literal(s)));

export const CreateApiKeyBody = Type.Object(
  {
    key_name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    scopes: Type.Optional(
      Type.Array(ScopeSchema, {
        minItems: 1,
        uniqueItems: true,
        description: 'Defaults to read:usage and write:usage. Only scopes the caller holds (admin keys: any).',
      }),
    ),
    usage_limit_chf: Type.Optional(
      Type.Union([ChfAmount, Type.Null()], {
        description: 'Monthly spend limit in CHF (> 0), or null for none',
      }),
    ),
    expires_at: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
    created_at: Type.Optional(
      Type.String({
        format: 'date-time',
        description:
          'Since when the key exists, for a key carried over from another system or made to import past usage: events dated before it are refused. Defaults to now; not in the future, not before 2000.',
      }),
    ),
  },
  { title: 'NewApiKey' },
);

export const ApiKeyResource = Type.Object(
  {
    id: Type.String(),
    key_prefix: Type.String({ description: 'The public start of the secret' }),
    organization_id: Type.String(),
    key_name: Type.String(),
    is_active: Type.Boolean({ description: 'true only in the `active` state' }),
    state: Type.Union(
      [Type.Literal('active'), Type.Literal('paused'), Type.Literal('deactivated'), Type.Literal('deleted')],
      {
        description:
          'A paused or deactivated key authenticates nothing until it is activated; a deleted one never again',
      },
    ),
    usage_limit_chf: Type.Union([Type.Number(), Type.Null()]),
    scopes: Type.Array(ScopeSchema),
    created_at: Type.String({ format: 'date-time' }),
    expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { title: 'ApiKey', description: 'An API key (never its secret)' },
);

export const CreatedApiKey = Type.Composite(
  [
    ApiKeyResource,
    Type.Object({ key: Type.String({ description: 'The secret. Shown this once; only its hash is stored.' }) }),
  ],
  { title: 'CreatedApiKey', description: 'The new API key, with its secret (shown this once)' },
);

export const ApiKeyParams = Type.Object({ org_id: OrgId, key_id: ApiKeyId });

export const ListApiKeysQuery = Type.Object({
  page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
  page_size: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  include_deleted: Type.Boolean({ default: false, description: 'Also list deleted keys' }),
});

export const ApiKeyList = Type.Object(
  {
    api_keys: Type.Array(ApiKeyResource),
    pagination: Pagination,
  },
  { title: 'ApiKeyList', description: 'One page of API keys' },
);

/** Any of the fields, at least one; the others stay as they are. null clears a limit or an expiry. */
export const UpdateApiKeyBody = Type.Partial(
  Type.Object({
    key_name: CreateApiKeyBody.properties.key_name,
    scopes: Type.Array(ScopeSchema, { minItems: 1, uniqueItems: true }),
    usage_limit_chf: Type.Union([ChfAmount, Type.Null()], {
      description: 'Monthly spend limit in CHF (> 0), or null for none',
    }),
    expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  }),
  { minProperties: 1, title: 'ApiKeyUpdate' },
);

export const DeletedApiKey = Type.Object(
  {
    success: Type.Literal(true),
    message: Type.String(),
    api_key_id: Type.String(),
  },
  { title: 'DeletedApiKey', description: 'The API key is deleted' },
);
