/**
 * Request and response shapes of the time-series analytics routes, field for field as the
 * Freddy Analytics API names them. Money and percentages are `Type.Number` (written as floats,
 * `12.0`); counts are `Type.Integer`.
 */
import { Type } from '@sinclair/typebox';
import { Month, OrgId, Year } from '../../http/common.schemas.ts';
import { ApiKeysSummaryResponse } from './analytics.schemas.ts';

const Chf = (description: string) => Type.Number({ description: `${description}, CHF rounded to 6 decimals` });
const IsoDate = (description: string) => Type.String({ format: 'date', description: `${description} (UTC)` });
const Currency = Type.Literal('CHF');
const Tokens = Type.Integer({
  description: 'Approximation: neurons × 10 + synapses × 10 (1 neuron ≈ 10 input tokens, 1 synapse ≈ 10 output tokens)',
});
const GrowthRate = Type.Union([Type.Number(), Type.Null()], {
  description:
    "Change of cost against the previous entry's, %, 2 decimals; null for the oldest entry or when the previous one cost nothing",
});

// Path month and year take the same bounds as the `month` and `year` query parameters.
const PathYear = Year('Year');
const PathMonth = Month('Month (1-12)');

export const DEFAULT_MONTHS = 12;
export const DEFAULT_YEARS = 3;
export const DEFAULT_TOP_KEYS = 10;

export const MonthsQuery = Type.Object({
  months: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 24,
      default: DEFAULT_MONTHS,
      description: 'Number of months (1-24), ending with the current UTC month',
    }),
  ),
});

export const YearsQuery = Type.Object({
  years: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 10,
      default: DEFAULT_YEARS,
      description: 'Number of years (1-10), ending with the current UTC year',
    }),
  ),
});

export const TopKeysParams = Type.Object({ org_id: OrgId, month: PathMonth, year: PathYear });
export const TopKeysQuery = Type.Object({
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100, default: DEFAULT_TOP_KEYS, description: 'Keys to list (1-100)' }),
  ),
});

export const DailyUsageResponse = Type.Object(
  {
    organization_id: Type.String(),
    period: Type.Literal('daily'),
    data: Type.Array(
      Type.Object({
        date: IsoDate('The day'),
        day_of_week: Type.String({ description: 'English weekday name, e.g. Monday' }),
        day_of_month: Type.Integer(),
        total_requests: Type.Integer(),
        total_cost_chf: Chf('Cost of the day'),
        total_synapses: Type.Integer(),
        total_neurons: Type.Integer(),
        has_data: Type.Boolean({ description: 'false on a day without usage (its numbers are 0)' }),
      }),
      { description: 'Every calendar day of the month, in order' },
    ),
    totalRequests: Type.Integer(),
    totalCost: Chf('Cost of the month'),
    summary: Type.Object({
      month: Type.Integer(),
      year: Type.Integer(),
      total_days: Type.Integer({ description: 'Days in the month' }),
      average_cost_per_day: Type.Number({ description: 'Month cost / days in the month, CHF, 2 decimals' }),
      peak_day: Type.Union([IsoDate('Day of the highest cost, the earliest on a tie'), Type.Null()], {
        description: 'null when no day of the month cost anything',
      }),
      currency: Currency,
    }),
  },
  { title: 'DailyUsage', description: 'Usage of each day of one month' },
);

const PeriodTotals = {
  total_cost_chf: Chf('Cost of the period'),
  total_requests: Type.Integer(),
  total_synapses: Type.Integer(),
  total_tokens: Tokens,
  growth_rate_percent: GrowthRate,
};

export const MonthlyUsageResponse = Type.Object(
  {
    organization_id: Type.String(),
    period: Type.Literal('monthly'),
    data: Type.Array(
      Type.Object({
        month: Type.Integer(),
        year: Type.Integer(),
        month_name: Type.String({ description: 'English month name, e.g. January' }),
        ...PeriodTotals,
      }),
      { description: 'One entry per month, oldest first, months without usage included' },
    ),
    totalRequests: Type.Integer(),
    totalCost: Chf('Cost of all months listed'),
    summary: Type.Object({
      start_month: Type.String({ description: 'Oldest month listed, YYYY-MM' }),
      end_month: Type.String({ description: 'Current month, YYYY-MM' }),
      months_included: Type.Integer(),
      currency: Currency,
    }),
  },
  { title: 'MonthlyUsage', description: 'Usage of each of the last months' },
);

export const YearlyUsageResponse = Type.Object(
  {
    organization_id: Type.String(),
    period: Type.Literal('yearly'),
    data: Type.Array(Type.Object({ year: Type.Integer(), ...PeriodTotals }), {
      description: 'One entry per year, oldest first, years without usage included',
    }),
    totalRequests: Type.Integer(),
    totalCost: Chf('Cost of all years listed'),
    summary: Type.Object({
      start_year: Type.Integer(),
      end_year: Type.Integer(),
      years_included: Type.Integer(),
      currency: Currency,
    }),
  },
  { title: 'YearlyUsage', description: 'Usage of each of the last years' },
);

export const ApiKeysDailyResponse = Type.Object(
  {
    organization_id: Type.String(),
    period: Type.Object({
      year: Type.Integer(),
      month: Type.Integer(),
      startDate: IsoDate('First day of the month'),
      endDate: IsoDate('Last day of the month'),
      daysInMonth: Type.Integer(),
      daysWithApiUsage: Type.Integer(),
    }),
    dailyUsage: Type.Array(
      Type.Object({
        date: IsoDate('The day'),
        requests: Type.Integer(),
        cost: Chf('API-key cost of the day'),
        synapses: Type.Integer(),
        neurons: Type.Integer(),
      }),
      { description: 'Every calendar day of the month, in order; 0 on days without API-key usage' },
    ),
    summary: ApiKeysSummaryResponse,
  },
  { title: 'ApiKeysDailyUsage', description: 'API-key usage of each day of one month' },
);

export const TopKeysResponse = Type.Object(
  {
    organization_id: Type.String(),
    period: Type.Object({
      type: Type.Literal('monthly'),
      month: Type.Integer(),
      year: Type.Integer(),
      start_date: IsoDate('First day of the month'),
      end_date: IsoDate('Last day of the month'),
    }),
    top_keys: Type.Array(
      Type.Object({
        api_key_id: Type.String(),
        key_name: Type.String(),
        total_requests: Type.Integer(),
        total_cost: Chf('Cost of the key in the month'),
        total_synapses: Type.Integer(),
        total_neurons: Type.Integer(),
      }),
      { description: 'Keys with usage in the month by cost, then requests (both descending), then id' },
    ),
    total_keys: Type.Integer({ description: 'Keys with usage in the month, before the limit' }),
    limit: Type.Integer(),
  },
  { title: 'TopApiKeys', description: 'The API keys that cost the most in one month' },
);
