import { Type } from '@sinclair/typebox';
import { ORG_ID_PATTERN } from '../../http/common.schemas.ts';

export const CreateOrganizationBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
  id: Type.Optional(
    Type.String({
      pattern: ORG_ID_PATTERN,
      description: 'Keep an existing id (e.g. when moving from another system); generated when absent',
    }),
  ),
});

export const OrganizationResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});
