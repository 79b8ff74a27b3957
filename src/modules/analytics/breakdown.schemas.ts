/**
 * Request and answer of the breakdown. Our own API, so its names are snake_case throughout;
 * money is `Type.Number` (CHF, 6 decimals, written as a float), units and counts are integers.
 */
import { Type } from '@sinclair/typebox';
import { ApiKeyId } from '../../http/common.schemas.ts';
import { DEFAULT_LIMIT, MAX_HOUR_RANGE_DAYS, MAX_RANGE_YEARS, WINDOWS } from './breakdown-query.ts';

const Time = (description: string) =>
  Type.String({
    maxLength: 40,
    description: `${description}: a UTC date (YYYY-MM-DD, its midnight) or an ISO-8601 time; on a window edge`,
  });

export const BreakdownQuerySchema = Type.Object(
  {
    from: Type.Optional(Time('Start of the range, included; default: the start of the current UTC month')),
    to: Type.Optional(Time('End of the range, excluded; default: the start of the next UTC month')),
    window: Type.Optional(
      Type.Union(
        WINDOWS.map((w) => Type.Literal(w)),
        {
          description: `UTC hours, days, calendar months, or the whole range as one window (default day). Ranges: up to ${MAX_HOUR_RANGE_DAYS} days for hour, ${MAX_RANGE_YEARS} years otherwise; \`all\` starts and ends on whole hours`,
        },
      ),
    ),
    group_by: Type.Optional(
      Type.String({
        maxLength: 200,
        description:
          'Up to two of model, api_key, end_user, tag:<key>, comma separated; empty or absent: totals per window',
      }),
    ),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only this model' })),
    api_key_id: Type.Optional(
      Type.Union([ApiKeyId, Type.Literal('none')], { description: 'Only this key; `none`: only usage without a key' }),
    ),
    end_user: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: 'Only this end user (1–256 characters)' }),
    ),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        description: `Groups per window, by cost (default ${DEFAULT_LIMIT}); the rest is summed into one "other" row`,
      }),
    ),
    format: Type.Optional(
      Type.Union([Type.Literal('json'), Type.Literal('csv')], {
        description: '`csv`: the rows as CSV, header first (as `Accept: text/csv` asks)',
      }),
    ),
  },
  {
    // `tag.<key>=<value>`: only usage whose events carry this tag (one such filter at most).
    patternProperties: { '^tag\\.': Type.String({ description: 'tag.<key>=<value>: only usage with this tag' }) },
  },
);

const counters = (what: string) => ({
  requests: Type.Integer({ description: `Requests ${what}` }),
  neurons: Type.Integer({ description: 'Input units, all of them' }),
  cached_neurons: Type.Integer({ description: "Input units read from the provider's prompt cache" }),
  cache_write_neurons: Type.Integer({ description: "Input units written to the provider's prompt cache" }),
  synapses: Type.Integer({ description: 'Output units, all of them' }),
  reasoning_synapses: Type.Integer({ description: 'Output units spent on reasoning' }),
  cost: Type.Number({ description: 'CHF, rounded to 6 decimals' }),
});

export const BreakdownRowSchema = Type.Object(
  {
    start: Type.String({ format: 'date-time', description: 'Start of the window (UTC), included' }),
    end: Type.String({ format: 'date-time', description: 'End of the window (UTC), excluded' }),
    group: Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]), {
      description:
        'One value per group_by dimension, named as in group_by; null for usage without a key, an end user or the tag, and in the "other" row',
    }),
    other: Type.Boolean({ description: 'The groups past `limit` in this window, summed' }),
    ...counters('in this window and group'),
  },
  { title: 'BreakdownRow' },
);

export const BreakdownResponse = Type.Object(
  {
    organization_id: Type.String(),
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    window: Type.Union(WINDOWS.map((w) => Type.Literal(w))),
    group_by: Type.Array(Type.String()),
    rows: Type.Array(BreakdownRowSchema, {
      description: 'By window start, then cost descending; windows without usage are left out',
    }),
    totals: Type.Object(counters('in the range'), { description: 'The rows added up: all usage of the range' }),
    generated_at: Type.String({ format: 'date-time' }),
  },
  { title: 'UsageBreakdown', description: 'Usage of a range per window and group' },
);
