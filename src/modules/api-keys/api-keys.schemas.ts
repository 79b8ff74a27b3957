import { Type } from '@sinclair/typebox';
import { ChfAmount } from '../../http/common.schemas.ts';
import { SCOPES } from './scopes.ts';

const ScopeSchema = Type.Union(SCOPES.map((s) => Type.Literal(s)));

export const CreateApiKeyBody = Type.Object({
  key_name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
  scopes: Type.Optional(
    Type.Array(ScopeSchema, {
      minItems: 1,
      uniqueItems: true,
      description: 'Defaults to read:usage and write:usage',
    }),
  ),
  usage_limit_chf: Type.Optional(
    Type.Union([ChfAmount, Type.Null()], {
      description: 'Monthly spend limit in CHF (> 0), or null for none',
    }),
  ),
  expires_at: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
});

export const ApiKeyResource = Type.Object({
  id: Type.String(),
  key_prefix: Type.String({ description: 'The public start of the secret' }),
  organization_id: Type.String(),
  key_name: Type.String(),
  is_active: Type.Boolean(),
  usage_limit_chf: Type.Union([Type.Number(), Type.Null()]),
  scopes: Type.Array(ScopeSchema),
  created_at: Type.String({ format: 'date-time' }),
  expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const CreatedApiKey = Type.Composite([
  ApiKeyResource,
  Type.Object({ key: Type.String({ description: 'The secret. Shown this once; only its hash is stored.' }) }),
]);
