/** Schemas shared by several modules' route declarations. */
import { Type } from '@sinclair/typebox';

export const ORG_ID_PATTERN = '^org_[A-Za-z0-9_-]{1,64}$';
export const API_KEY_ID_PATTERN = '^apikey_[A-Za-z0-9_-]{1,64}$';

export const OrgId = Type.String({
  pattern: ORG_ID_PATTERN,
  description: 'Organization id (`org_…`)',
  examples: ['org_abc123'],
});
export const ApiKeyId = Type.String({
  pattern: API_KEY_ID_PATTERN,
  description: 'API key id (`apikey_…`)',
  examples: ['apikey_def456'],
});

export const OrgParams = Type.Object({ org_id: OrgId });

/** A CHF amount in a request: a JSON number or a decimal string ("12.50"). */
export const ChfAmount = Type.Union(
  [Type.Number({ minimum: 0 }), Type.String({ pattern: '^\\s*\\d+(\\.\\d+)?\\s*$' })],
  {
    description: 'CHF, as a number or a decimal string',
  },
);

/** `year` 2020–2030 and `month` 1–12, each defaulting to the current UTC one. */
export const MonthQuery = Type.Object({
  year: Type.Optional(
    Type.Integer({
      minimum: 2020,
      maximum: 2030,
      description: 'Year (2020-2030); defaults to the current UTC year',
    }),
  ),
  month: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 12, description: 'Month (1-12); defaults to the current UTC month' }),
  ),
});
