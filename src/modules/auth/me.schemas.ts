import { Type } from '@sinclair/typebox';
import { SCOPES } from '../api-keys/scopes.ts';

/**
 * One object for both kinds of caller, its fields present by `kind`: the response writer picks
 * a union's branch by JSON type alone, so two object branches could not both be written whole.
 */
export const MeResponse = Type.Object(
  {
    kind: Type.Union([Type.Literal('api_key'), Type.Literal('admin')], {
      description: '`api_key`: a key of one organization; `admin`: a platform admin key',
    }),
    organization_id: Type.Optional(Type.String({ description: 'The key’s organization (API keys only)' })),
    api_key_id: Type.Optional(Type.String({ description: 'API keys only' })),
    admin_key_id: Type.Optional(Type.String({ description: 'Platform admin keys only' })),
    key_name: Type.String(),
    scopes: Type.Optional(
      Type.Array(Type.Union(SCOPES.map((scope) => Type.Literal(scope))), {
        description: 'What the key may do in its organization (API keys only; an admin key may do everything)',
      }),
    ),
  },
  { title: 'Caller', description: 'The key that made the request' },
);
