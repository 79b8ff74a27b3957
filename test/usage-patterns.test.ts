/**
 * The hourly usage, the weekly heatmap and the trends against hand-computed expectations: a day
 * across UTC midnights, a heatmap range that starts mid-week, months without usage inside a
 * trend, a trend growing exactly 10 % a month, a flat one, an organization without any usage,
 * and out-of-range parameters. The clock is pinned to Thursday 2025-11-20T12:00Z.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { trendTotals } from '../src/modules/analytics/usage-patterns.repository.ts';
import { weekdayOf } from '../src/modules/analytics/usage-patterns.ts';
import { DAY_MS, dayKeyOf } from '../src/time/calendar.ts';
import { assertEnvelope, type EventInput, forEachDialect, ingest, makeOrg } from './harness.ts';

const NOW = Date.parse('2025-11-20T12:00:00Z');
const HOURS = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

forEachDialect(
  'hourly usage, heatmap and trends',
  (server) => {
    let key: string;
    const orgs = { hourly: '', heatmap: '', growth: '', gaps: '', flat: '', tomorrow: '', calendar: '', empty: '' };
    const get = (url: string) => server().request('GET', url, { key });

    before(async () => {
      for (const name of Object.keys(orgs) as Array<keyof typeof orgs>) orgs[name] = (await makeOrg(server())).id;
      // A platform admin key reads every organization of this file; the access matrix covers the rest.
      key = server().adminKey;
      let n = 0;
      const event = (org: string, timestamp: string, neurons: number, synapses: number, cost = '0'): EventInput => ({
        id: `e${n++}`,
        organization_id: org,
        model: 'gpt-4o',
        neurons,
        synapses,
        cost,
        timestamp,
      });
      const monthly = (org: string, dates: string[], values: number[]) =>
        dates.map((date, i) => event(org, `${date}T10:00:00Z`, values[i]!, 0));
      const weekdays = ['2025-06-03', '2025-07-03', '2025-08-04', '2025-09-03', '2025-10-02', '2025-11-04'];
      const weekends = ['2025-06-07', '2025-07-05', '2025-08-02', '2025-09-06', '2025-10-04', '2025-11-08'];
      await ingest(server(), [
        // hourly: 2025-11-15 and the hours around its midnights
        event(orgs.hourly, '2025-11-14T23:30:00Z', 10, 20, '1'),
        event(orgs.hourly, '2025-11-15T00:00:00.000Z', 100, 50, '2.5'),
        event(orgs.hourly, '2025-11-15T00:59:59.999Z', 1, 1, '0.25'),
        event(orgs.hourly, '2025-11-15T14:10:00Z', 1000, 500, '3'),
        event(orgs.hourly, '2025-11-15T23:59:59.999Z', 5, 5, '3'),
        event(orgs.hourly, '2025-11-16T00:00:00.000Z', 7, 7, '7'),
        // heatmap: days=10 is Tuesday 2025-11-11 … Thursday 2025-11-20
        event(orgs.heatmap, '2025-11-10T23:59:59.999Z', 1000, 0), // Monday, the day before the range
        event(orgs.heatmap, '2025-11-11T00:00:00.000Z', 100, 10), // Tuesday 00
        event(orgs.heatmap, '2025-11-18T00:30:00Z', 40, 0), // Tuesday 00 again
        event(orgs.heatmap, '2025-11-17T09:00:00Z', 200, 100), // Monday 09
        event(orgs.heatmap, '2025-11-20T11:59:00Z', 50, 50), // Thursday 11, today
        event(orgs.heatmap, '2025-11-13T11:00:00Z', 100, 0), // Thursday 11 a week before
        event(orgs.heatmap, '2025-11-15T10:00:00Z', 5, 5), // Saturday 10
        event(orgs.heatmap, '2025-11-16T23:00:00Z', 150, 0), // Sunday 23
        // trends, months=6 is 2025-06 … 2025-11 (November is not over)
        ...monthly(orgs.growth, weekdays, [10000, 11000, 12100, 13310, 14641, 500]),
        ...monthly(orgs.gaps, [weekdays[0]!, weekdays[3]!], [1000, 4000]),
        ...monthly(orgs.flat, weekdays, [3600, 3600, 3600, 3600, 3600, 3600]),
        ...monthly(orgs.flat, weekends, [1400, 1400, 1400, 1400, 1400, 1400]),
        // Saturday, and tomorrow (a Friday): the month counts tomorrow, the weekdays do not yet.
        event(orgs.tomorrow, '2025-11-15T10:00:00Z', 100, 0),
        event(orgs.tomorrow, '2025-11-21T10:00:00Z', 10000, 0),
      ]);
    });

    describe('hourly usage', () => {
      const hour = (h: number, requests: number, cost: number, neurons: number, synapses: number) => ({
        hour: h,
        hour_display: `${String(h).padStart(2, '0')}:00`,
        total_requests: requests,
        total_cost_chf: cost,
        total_synapses: synapses,
        total_neurons: neurons,
        has_data: requests > 0,
      });

      it('lists the 24 hours of a day, each midnight on its own side', async () => {
        const { status, body, text } = await get(`/v1/analytics/usage/hourly/${orgs.hourly}?date=2025-11-15`);
        assert.equal(status, 200, text);
        assert.equal(body.organization_id, orgs.hourly);
        assert.equal(body.period, 'hourly');
        const expected = Array.from({ length: 24 }, (_, h) => hour(h, 0, 0, 0, 0));
        expected[0] = hour(0, 2, 2.75, 101, 51);
        expected[14] = hour(14, 1, 3, 1000, 500);
        expected[23] = hour(23, 1, 3, 5, 5);
        assert.deepEqual(body.data, expected);
        assert.equal(body.totalRequests, 4);
        assert.equal(body.totalCost, 8.75);
        // 4 requests / 3 active hours = 1.33; hours 14 and 23 tie at 3 CHF: the earlier one.
        assert.deepEqual(body.summary, {
          date: '2025-11-15',
          avg_requests_per_hour: 1.33,
          hours_with_activity: 3,
          peak_hour: 14,
          currency: 'CHF',
        });
        // Money and the units are written as floats, as the Freddy API writes them.
        assert.match(text, /"total_cost_chf":2\.75,"total_synapses":51\.0,"total_neurons":101\.0,"has_data":true/);
      });

      it('puts the events just before and after the day on the days they belong to', async () => {
        const before = (await get(`/v1/analytics/usage/hourly/${orgs.hourly}?date=2025-11-14`)).body;
        assert.deepEqual(before.data[23], hour(23, 1, 1, 10, 20));
        assert.equal(before.totalRequests, 1);
        assert.equal(before.summary.peak_hour, 23);
        const after = (await get(`/v1/analytics/usage/hourly/${orgs.hourly}?date=2025-11-16`)).body;
        assert.deepEqual(after.data[0], hour(0, 1, 7, 7, 7));
        assert.equal(after.totalRequests, 1);
      });

      it('answers zeros, no peak and an average of 0 for an organization without usage', async () => {
        const { status, body } = await get(`/v1/analytics/usage/hourly/${orgs.empty}?date=2025-11-15`);
        assert.equal(status, 200);
        assert.deepEqual(
          body.data,
          Array.from({ length: 24 }, (_, h) => hour(h, 0, 0, 0, 0)),
        );
        assert.equal(body.totalRequests, 0);
        assert.equal(body.totalCost, 0);
        assert.deepEqual(body.summary, {
          date: '2025-11-15',
          avg_requests_per_hour: 0,
          hours_with_activity: 0,
          peak_hour: null,
          currency: 'CHF',
        });
      });

      it('takes dates from 2000-01-01 to tomorrow', async () => {
        for (const date of ['2000-01-01', '2025-11-21']) {
          const response = await get(`/v1/analytics/usage/hourly/${orgs.hourly}?date=${date}`);
          assert.equal(response.status, 200, `${date}: ${response.text}`);
        }
      });

      for (const [query, why] of [
        ['', 'missing'],
        ['?date=', 'empty'],
        ['?date=2025-11-31', 'not a calendar day'],
        ['?date=15.11.2025', 'malformed'],
        ['?date=2025-11-15T00:00:00Z', 'a time'],
        ['?date=1999-12-31', 'before 2000'],
        ['?date=2025-11-22', 'after tomorrow'],
      ]) {
        it(`answers 400 naming date when it is ${why}`, async () => {
          const response = await get(`/v1/analytics/usage/hourly/${orgs.hourly}${query}`);
          assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
          assert.match(response.body.error.system_message, /\bdate\b/);
        });
      }
    });

    describe('heatmap', () => {
      const grid = (cells: Record<string, number>) =>
        Object.fromEntries(
          WEEKDAYS.map((day) => [day, Object.fromEntries(HOURS.map((h) => [h, cells[`${day} ${h}`] ?? 0]))]),
        );

      it('sums a range that starts mid-week by weekday and hour, with its peaks', async () => {
        const { status, body, text } = await get(`/v1/analytics/usage/heatmap/${orgs.heatmap}?days=10`);
        assert.equal(status, 200, text);
        assert.equal(body.organization_id, orgs.heatmap);
        assert.equal(body.metric, null);
        // Written Monday to Sunday, each from "00" to "23".
        assert.ok(
          text.includes(
            `"heatmap_data":{"monday":{${HOURS.map((h) => `"${h}":${h === '09' ? 300 : 0}`).join(',')}},"tuesday":{"00":150,`,
          ),
          text,
        );
        // Tuesday 00 holds both Tuesdays of the range (110 + 40); Monday 2025-11-10 is outside it.
        assert.deepEqual(
          body.heatmap_data,
          grid({ 'monday 09': 300, 'tuesday 00': 150, 'thursday 11': 200, 'saturday 10': 10, 'sunday 23': 150 }),
        );
        // Tuesday 00 and Sunday 23 tie at 150: Monday first, so Tuesday comes before Sunday.
        assert.deepEqual(body.peak_hours, [
          { day: 'monday', hour: 9, value: 300 },
          { day: 'thursday', hour: 11, value: 200 },
          { day: 'tuesday', hour: 0, value: 150 },
          { day: 'sunday', hour: 23, value: 150 },
          { day: 'saturday', hour: 10, value: 10 },
        ]);
        // Weekday totals 300, 150, 0, 200, 0, 10, 150: mean 810 / 7 = 115.7, half of it 57.9.
        assert.deepEqual(body.patterns, {
          peak_day: 'monday',
          peak_hour: 9,
          low_activity_days: ['wednesday', 'friday', 'saturday'],
        });
      });

      it('counts neurons or synapses alone when asked', async () => {
        const neurons = (await get(`/v1/analytics/usage/heatmap/${orgs.heatmap}?days=10&metric=neurons`)).body;
        assert.equal(neurons.metric, 'neurons');
        assert.deepEqual(
          neurons.heatmap_data,
          grid({ 'monday 09': 200, 'tuesday 00': 140, 'thursday 11': 150, 'saturday 10': 5, 'sunday 23': 150 }),
        );
        assert.deepEqual(neurons.peak_hours.slice(0, 3), [
          { day: 'monday', hour: 9, value: 200 },
          { day: 'thursday', hour: 11, value: 150 },
          { day: 'sunday', hour: 23, value: 150 },
        ]);
        const synapses = (await get(`/v1/analytics/usage/heatmap/${orgs.heatmap}?days=10&metric=synapses`)).body;
        assert.equal(synapses.metric, 'synapses');
        assert.deepEqual(
          synapses.heatmap_data,
          grid({ 'monday 09': 100, 'tuesday 00': 10, 'thursday 11': 50, 'saturday 10': 5 }),
        );
      });

      it('takes only the last seven days with days=7', async () => {
        const { body } = await get(`/v1/analytics/usage/heatmap/${orgs.heatmap}?days=7`);
        assert.deepEqual(
          body.heatmap_data,
          grid({ 'monday 09': 300, 'tuesday 00': 40, 'thursday 11': 100, 'saturday 10': 10, 'sunday 23': 150 }),
        );
      });

      it('answers every cell at 0, no peaks and no quiet days for an organization without usage', async () => {
        const { status, body } = await get(`/v1/analytics/usage/heatmap/${orgs.empty}`);
        assert.equal(status, 200);
        assert.deepEqual(body.heatmap_data, grid({}));
        assert.deepEqual(body.peak_hours, []);
        assert.deepEqual(body.patterns, { peak_day: null, peak_hour: null, low_activity_days: [] });
      });

      for (const [query, parameter] of [
        ['days=6', 'days'],
        ['days=91', 'days'],
        ['days=1.5', 'days'],
        ['days=abc', 'days'],
        ['metric=tokens', 'metric'],
      ]) {
        it(`answers 400 naming ${parameter} for ${query}`, async () => {
          const response = await get(`/v1/analytics/usage/heatmap/${orgs.heatmap}?${query}`);
          assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
          assert.match(response.body.error.system_message, new RegExp(`\\b${parameter}\\b`));
        });
      }
    });

    describe('trends', () => {
      const months = ['2025-06', '2025-07', '2025-08', '2025-09', '2025-10', '2025-11'];
      const monthlyData = (values: number[]) => months.map((month, i) => ({ month, value: values[i] }));
      const period = { months: 6, start: '2025-06-01', end: '2025-11-30' };

      it('finds growth of exactly 10 % a month, and forecasts it exactly', async () => {
        const { status, body, text } = await get(`/v1/analytics/usage/trends/${orgs.growth}?months=6`);
        assert.equal(status, 200, text);
        assert.equal(body.organization_id, orgs.growth);
        assert.equal(body.metric, null);
        assert.deepEqual(body.period, period);
        // The line through June … October (x = 0 … 4): slope 57960 / 50 = 1159.2, intercept
        // 12210.2 − 2 × 1159.2 = 9891.8. December (x = 6): 16847; Dec + Jan + Feb: 16847 +
        // 18006.2 + 19165.4 = 54018.6 → 54019. R² = 0.9968. November (not over) is left out.
        assert.deepEqual(body.trends, {
          overall_growth_rate: 0.1,
          monthly_data: monthlyData([10000, 11000, 12100, 13310, 14641, 500]),
          forecast_next_month: 16847,
        });
        assert.deepEqual(body.forecasts, { next_month: 16847, next_quarter: 54019, confidence: 'high' });
        // Every event on a weekday, none on a weekend.
        assert.deepEqual(body.patterns, [
          { type: 'growth', description: 'Consistent month-over-month growth of about 10 %' },
          { type: 'seasonality', description: 'Higher usage on weekdays than on weekends' },
        ]);
        assert.match(text, /"overall_growth_rate":0\.1,/);
      });

      it('counts months without usage inside the trend as 0', async () => {
        const { body } = await get(`/v1/analytics/usage/trends/${orgs.gaps}`);
        assert.deepEqual(body.period, period, 'months defaults to 6');
        // Growth from June (1000) to September (4000), three months: 4^(1/3) − 1 = 0.587 → 0.59.
        // Line through 1000, 0, 0, 4000, 0: slope 200, intercept 600; December 1800, the
        // quarter 1800 + 2000 + 2200 = 6000; R² = 1 − 11600000 / 12000000 = 0.03.
        assert.deepEqual(body.trends, {
          overall_growth_rate: 0.59,
          monthly_data: monthlyData([1000, 0, 0, 4000, 0, 0]),
          forecast_next_month: 1800,
        });
        assert.deepEqual(body.forecasts, { next_month: 1800, next_quarter: 6000, confidence: 'low' });
        assert.deepEqual(
          body.patterns.map((p: { type: string }) => p.type),
          ['growth', 'seasonality'],
        );
      });

      it('calls a flat trend stable, and sees no seasonality when weekdays and weekends are alike', async () => {
        const { body } = await get(`/v1/analytics/usage/trends/${orgs.flat}?months=6&metric=neurons`);
        assert.equal(body.metric, 'neurons');
        assert.deepEqual(body.trends, {
          overall_growth_rate: 0,
          monthly_data: monthlyData([5000, 5000, 5000, 5000, 5000, 5000]),
          forecast_next_month: 5000,
        });
        assert.deepEqual(body.forecasts, { next_month: 5000, next_quarter: 15000, confidence: 'high' });
        // 124 weekdays and 49 weekend days from June 1 to today: 21600 / 124 = 174.2 against
        // 8400 / 49 = 171.4 a day.
        assert.deepEqual(body.patterns, [
          { type: 'stable', description: 'Stable usage: month-over-month change below 5 %' },
        ]);
        const synapses = (await get(`/v1/analytics/usage/trends/${orgs.flat}?metric=synapses`)).body;
        assert.deepEqual(synapses.trends.monthly_data, monthlyData([0, 0, 0, 0, 0, 0]));
      });

      it('counts tomorrow in its month but not among the days of the week', async () => {
        const { body } = await get(`/v1/analytics/usage/trends/${orgs.tomorrow}?months=1`);
        assert.deepEqual(body.trends.monthly_data, [{ month: '2025-11', value: 10100 }]);
        assert.deepEqual(body.patterns, [
          { type: 'seasonality', description: 'Higher usage on weekends than on weekdays' },
        ]);
      });

      it('tells weekend days from weekdays in SQL as the calendar does, leap days and centuries included', async () => {
        // One daily row per day of several spans: neurons on the weekend days, synapses on the
        // weekdays, so that a day put on the wrong side shows as the wrong counter.
        const spans = [
          ['1999-12-20', '2001-03-10'],
          ['2023-12-20', '2026-03-10'],
          ['2099-12-20', '2100-03-10'],
        ];
        const rows = spans.flatMap(([from, to]) => {
          const days: number[] = [];
          for (let day = Date.parse(from!); day <= Date.parse(to!); day += DAY_MS) days.push(day);
          return days.map((day) => ({
            organization_id: orgs.calendar,
            day: dayKeyOf(day),
            requests: 1n,
            neurons: weekdayOf(day) >= 5 ? 1n : 0n,
            synapses: weekdayOf(day) >= 5 ? 0n : 1n,
            cost_nano: 0n,
          }));
        });
        for (let i = 0; i < rows.length; i += 500) {
          await server()
            .storage.db.insertInto('rollup_org_day')
            .values(rows.slice(i, i + 500))
            .execute();
        }
        const totals = await trendTotals(server().storage.db, orgs.calendar, [0, 0], [19991220, 21000310]);
        const weekend = rows.filter((row) => row.neurons === 1n).length;
        assert.deepEqual(totals.weekend, { neurons: BigInt(weekend), synapses: 0n });
        assert.deepEqual(totals.weekdays, { neurons: 0n, synapses: BigInt(rows.length - weekend) });
      });

      it('answers zeros, no growth and a low-confidence forecast of 0 for an organization without usage', async () => {
        const { status, body } = await get(`/v1/analytics/usage/trends/${orgs.empty}?months=24`);
        assert.equal(status, 200);
        assert.deepEqual(body.period, { months: 24, start: '2023-12-01', end: '2025-11-30' });
        assert.equal(body.trends.monthly_data.length, 24);
        assert.ok(body.trends.monthly_data.every((m: { value: number }) => m.value === 0));
        assert.equal(body.trends.overall_growth_rate, null);
        assert.equal(body.trends.forecast_next_month, 0);
        assert.deepEqual(body.forecasts, { next_month: 0, next_quarter: 0, confidence: 'low' });
        assert.deepEqual(body.patterns, []);
      });

      it('with one month, the current one, has nothing complete to grow or forecast from', async () => {
        const { body } = await get(`/v1/analytics/usage/trends/${orgs.growth}?months=1`);
        assert.deepEqual(body.period, { months: 1, start: '2025-11-01', end: '2025-11-30' });
        assert.deepEqual(body.trends, {
          overall_growth_rate: null,
          monthly_data: [{ month: '2025-11', value: 500 }],
          forecast_next_month: 0,
        });
        assert.deepEqual(body.forecasts, { next_month: 0, next_quarter: 0, confidence: 'low' });
      });

      for (const [query, parameter] of [
        ['months=0', 'months'],
        ['months=25', 'months'],
        ['months=2.5', 'months'],
        ['metric=cost', 'metric'],
      ]) {
        it(`answers 400 naming ${parameter} for ${query}`, async () => {
          const response = await get(`/v1/analytics/usage/trends/${orgs.growth}?${query}`);
          assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
          assert.match(response.body.error.system_message, new RegExp(`\\b${parameter}\\b`));
        });
      }
    });
  },
  { clock: () => NOW },
);
