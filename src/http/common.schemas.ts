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

/** Where a page of a list is: the same in every paginated answer. */
export const Pagination = Type.Object(
  {
    page: Type.Integer(),
    page_size: Type.Integer(),
    total_count: Type.Integer(),
    total_pages: Type.Integer(),
  },
  { title: 'Pagination' },
);

/** A CHF amount in a request: a JSON number or a decimal string ("12.50"). */
export const ChfAmount = Type.Union(
  [Type.Number({ minimum: 0 }), Type.String({ pattern: '^\\s*\\d+(\\.\\d+)?\\s*$' })],
  {
    description: 'CHF, as a number or a decimal string',
  },
);

/**
 * A year of usage: from 2000 (the earliest an event may be dated) to the latest year an event
 * can be dated in now (now + 24 h), and never less than 2030, the last year the Freddy API
 * contract promises. The upper bound moves with the clock, so validation checks it (see the
 * keyword in validation.ts) rather than a fixed `maximum`.
 */
export const EARLIEST_YEAR = 2000;
export const CONTRACT_LAST_YEAR = 2030;
export const LATEST_YEAR_KEYWORD = 'x-latest-event-year';

export const Year = (description: string) =>
  Type.Integer({
    minimum: EARLIEST_YEAR,
    [LATEST_YEAR_KEYWORD]: true,
    description: `${description}: from ${EARLIEST_YEAR} to ${CONTRACT_LAST_YEAR}, or to the year of now + 24 h once that is later`,
  });

export const Month = (description: string) => Type.Integer({ minimum: 1, maximum: 12, description });

/** `year` and `month` 1–12, each defaulting to the current UTC one. */
export const MonthQuery = Type.Object({
  year: Type.Optional(Year('Year; defaults to the current UTC year')),
  month: Type.Optional(Month('Month (1-12); defaults to the current UTC month')),
});
