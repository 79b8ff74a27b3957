/**
 * Request and response shapes of the hourly usage, the weekly heatmap and the trends, field for
 * field as the Freddy Analytics API names them (shared/spec/freddy-family.md). Money, averages
 * and the hourly units are `Type.Number` (written as floats); counts and heatmap values are
 * `Type.Integer`.
 */
import { Type } from '@sinclair/typebox';
import { PROPERTY_ORDER_KEYWORD } from '../../http/serializer.ts';
import { WEEKDAY_NAMES } from './usage-patterns.ts';

export const DEFAULT_HEATMAP_DAYS = 30;
export const DEFAULT_TREND_MONTHS = 6;

const Metric = Type.Union([Type.Literal('neurons'), Type.Literal('synapses')], {
  description: 'What to count: `neurons` or `synapses`; absent counts both (neurons + synapses)',
});
const MetricAnswer = Type.Union([Type.Literal('neurons'), Type.Literal('synapses'), Type.Null()], {
  description: 'The `metric` asked for; null when absent (values are neurons + synapses)',
});
const Weekday = Type.Union(
  WEEKDAY_NAMES.map((d) => Type.Literal(d)),
  { description: 'Lowercase English weekday name' },
);
const IsoDate = (description: string) => Type.String({ format: 'date', description: `${description} (UTC)` });

export const HourlyQuery = Type.Object({
  date: Type.String({ format: 'date', description: 'The UTC day, YYYY-MM-DD (required)' }),
});

export const HeatmapQuery = Type.Object({
  days: Type.Optional(
    Type.Integer({
      minimum: 7,
      maximum: 90,
      default: DEFAULT_HEATMAP_DAYS,
      description: 'Number of UTC days (7-90), ending with today',
    }),
  ),
  metric: Type.Optional(Metric),
});

export const TrendsQuery = Type.Object({
  months: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 24,
      default: DEFAULT_TREND_MONTHS,
      description: 'Number of calendar months (1-24), ending with the current UTC month',
    }),
  ),
  metric: Type.Optional(Metric),
});

export const HourlyUsageResponse = Type.Object(
  {
    organization_id: Type.String(),
    period: Type.Literal('hourly'),
    data: Type.Array(
      Type.Object({
        hour: Type.Integer({ description: 'UTC hour, 0-23' }),
        hour_display: Type.String({ description: '"09:00"' }),
        total_requests: Type.Integer(),
        total_cost_chf: Type.Number({ description: 'Cost of the hour, CHF rounded to 6 decimals' }),
        total_synapses: Type.Number(),
        total_neurons: Type.Number(),
        has_data: Type.Boolean({ description: 'false for an hour without usage (its numbers are 0)' }),
      }),
      { description: 'All 24 UTC hours of the day, in order' },
    ),
    totalRequests: Type.Integer(),
    totalCost: Type.Number({ description: 'Cost of the day, CHF rounded to 6 decimals' }),
    summary: Type.Object({
      date: IsoDate('The day'),
      avg_requests_per_hour: Type.Number({
        description: 'Requests / hours with activity, 2 decimals; 0 when none',
      }),
      hours_with_activity: Type.Integer(),
      peak_hour: Type.Union([Type.Integer(), Type.Null()], {
        description: 'The hour with the highest cost (the earlier on a tie); null when the day has no usage',
      }),
      currency: Type.Literal('CHF'),
    }),
  },
  { title: 'HourlyUsage', description: 'Usage of each UTC hour of one day' },
);

const HOURS = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));
const HourCells = Type.Object(Object.fromEntries(HOURS.map((hour) => [hour, Type.Integer()])), {
  description: 'Every UTC hour "00"…"23", zeros included',
  [PROPERTY_ORDER_KEYWORD]: HOURS,
});

export const HeatmapResponse = Type.Object(
  {
    organization_id: Type.String(),
    metric: MetricAnswer,
    heatmap_data: Type.Object(Object.fromEntries(WEEKDAY_NAMES.map((d) => [d, HourCells])), {
      description: 'Weekday × UTC hour over the last `days` days, summed; all seven weekdays and 24 hours',
    }),
    peak_hours: Type.Array(Type.Object({ day: Weekday, hour: Type.Integer(), value: Type.Integer() }), {
      description: 'The five highest cells with usage, descending (ties: Monday first, then the earlier hour)',
    }),
    patterns: Type.Object({
      peak_day: Type.Union([Weekday, Type.Null()], {
        description: 'The weekday with the highest total (Monday first on a tie); null without usage',
      }),
      peak_hour: Type.Union([Type.Integer(), Type.Null()], {
        description: 'The hour with the highest total over all weekdays (the earlier on a tie); null without usage',
      }),
      low_activity_days: Type.Array(Weekday, {
        description: 'Weekdays whose total is below half the mean weekday total',
      }),
    }),
  },
  { title: 'UsageHeatmap', description: 'Usage by weekday and UTC hour over the last days' },
);

export const TrendsResponse = Type.Object(
  {
    organization_id: Type.String(),
    metric: MetricAnswer,
    period: Type.Object({
      months: Type.Integer(),
      start: IsoDate('First day of the first month'),
      end: IsoDate('Last day of the current month'),
    }),
    trends: Type.Object({
      overall_growth_rate: Type.Union([Type.Number(), Type.Null()], {
        description:
          'Compound monthly growth from the first to the last complete month with a non-zero value, as a fraction (0.18 = 18 %), 2 decimals; null with fewer than two such months',
      }),
      monthly_data: Type.Array(Type.Object({ month: Type.String({ description: 'YYYY-MM' }), value: Type.Integer() }), {
        description: 'Every month of the period, oldest first, months without usage included (0)',
      }),
      forecast_next_month: Type.Integer({ description: 'Equals forecasts.next_month' }),
    }),
    patterns: Type.Array(
      Type.Object({
        type: Type.Union([
          Type.Literal('growth'),
          Type.Literal('decline'),
          Type.Literal('stable'),
          Type.Literal('seasonality'),
        ]),
        description: Type.String(),
      }),
    ),
    forecasts: Type.Object({
      next_month: Type.Integer({
        description:
          'The least-squares line through the complete months, read at the month after the current one; never below 0',
      }),
      next_quarter: Type.Integer({ description: 'The same line over the next three months, summed; never below 0' }),
      confidence: Type.Union([Type.Literal('high'), Type.Literal('medium'), Type.Literal('low')], {
        description:
          'From the R² of the line: ≥ 0.8 high, ≥ 0.5 medium, else low (also with fewer than two complete months)',
      }),
    }),
  },
  { title: 'UsageTrends', description: 'Monthly values of the last months, their growth, a forecast and patterns' },
);
