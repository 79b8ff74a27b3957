/**
 * The time-series analytics routes against hand-computed expectations: a month boundary, a year
 * boundary, a leap day, an empty month, and an organization without any usage. The clock is
 * pinned to 2025-01-20 so that "the last 12 months" is a known window (2024-02 … 2025-01).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type EventInput, forEachDialect, ingest, makeApiKey, makeOrg } from './harness.ts';

const NOW = Date.parse('2025-01-20T12:00:00Z');

const zeroDay = { total_requests: 0, total_cost_chf: 0, total_synapses: 0, total_neurons: 0, has_data: false };

forEachDialect(
  'time-series analytics',
  (server) => {
    let orgId: string;
    let key: string;
    let k1: string;
    let k2: string;
    const get = (url: string, as = key) => server().request('GET', url, { key: as });

    before(async () => {
      orgId = (await makeOrg(server())).id;
      key = (await makeApiKey(server(), orgId, { scopes: ['read:usage'] })).secret;
      k1 = (await makeApiKey(server(), orgId, { name: 'Production' })).id;
      k2 = (await makeApiKey(server(), orgId, { name: 'Batch' })).id;
      let n = 0;
      const event = (timestamp: string, apiKey: string | null, cost: string, neurons: number, synapses: number) =>
        ({
          id: `e${n++}`,
          organization_id: orgId,
          api_key_id: apiKey,
          model: 'gpt-4o',
          neurons,
          synapses,
          cost,
          timestamp,
        }) satisfies EventInput;
      await ingest(server(), [
        event('2023-07-04T00:00:00.000Z', k1, '10', 1, 1),
        event('2024-02-29T12:00:00.000Z', k2, '3', 100, 200), // leap day
        event('2024-02-29T23:59:59.999Z', null, '1', 1, 1),
        event('2024-03-01T00:00:00.000Z', k1, '0.5', 2, 3),
        event('2024-03-31T23:59:59.999Z', k1, '1.5', 10, 20), // month boundary
        event('2024-04-01T00:00:00.000Z', null, '2.25', 5, 7),
        // 2024-05: no usage at all
        event('2024-06-10T08:00:00.000Z', null, '1.125', 3, 3),
        event('2024-12-31T23:59:59.999Z', k1, '4', 40, 40), // year boundary
        event('2025-01-01T00:00:00.000Z', k2, '6', 60, 60),
      ]);
    });

    describe('daily usage', () => {
      it('lists all 29 days of a leap February, the leap day with its usage', async () => {
        const { status, body, text } = await get(`/v1/analytics/usage/daily/${orgId}?year=2024&month=2`);
        assert.equal(status, 200, text);
        assert.equal(body.organization_id, orgId);
        assert.equal(body.period, 'daily');
        assert.equal(body.data.length, 29);
        assert.deepEqual(body.data[0], { date: '2024-02-01', day_of_week: 'Thursday', day_of_month: 1, ...zeroDay });
        assert.deepEqual(body.data[28], {
          date: '2024-02-29',
          day_of_week: 'Thursday',
          day_of_month: 29,
          total_requests: 2,
          total_cost_chf: 4,
          total_synapses: 201,
          total_neurons: 101,
          has_data: true,
        });
        assert.equal(body.totalRequests, 2);
        assert.equal(body.totalCost, 4);
        // 4 / 29 = 0.1379…
        assert.deepEqual(body.summary, {
          month: 2,
          year: 2024,
          total_days: 29,
          average_cost_per_day: 0.14,
          peak_day: '2024-02-29',
          currency: 'CHF',
        });
        assert.match(text, /"total_cost_chf":4\.0,/);
        assert.match(text, /"totalCost":4\.0,/);
      });

      it('keeps the last millisecond of a month in that month and midnight in the next', async () => {
        const march = (await get(`/v1/analytics/usage/daily/${orgId}?year=2024&month=3`)).body;
        const withData = march.data.filter((d: { has_data: boolean }) => d.has_data);
        assert.deepEqual(
          withData.map((d: any) => [d.date, d.day_of_week, d.total_cost_chf, d.total_requests]),
          [
            ['2024-03-01', 'Friday', 0.5, 1],
            ['2024-03-31', 'Sunday', 1.5, 1],
          ],
        );
        assert.equal(march.totalCost, 2);
        assert.equal(march.summary.average_cost_per_day, 0.06); // 2 / 31
        assert.equal(march.summary.peak_day, '2024-03-31');

        const april = (await get(`/v1/analytics/usage/daily/${orgId}?year=2024&month=4`)).body;
        assert.equal(april.data.length, 30);
        assert.deepEqual(april.data[0], {
          date: '2024-04-01',
          day_of_week: 'Monday',
          day_of_month: 1,
          total_requests: 1,
          total_cost_chf: 2.25,
          total_synapses: 7,
          total_neurons: 5,
          has_data: true,
        });
        // 2.25 / 30 = 0.075 exactly: half to even gives 0.08.
        assert.equal(april.summary.average_cost_per_day, 0.08);
      });

      it('lists an empty month with zeros and no peak day', async () => {
        const { body, text } = await get(`/v1/analytics/usage/daily/${orgId}?year=2024&month=5`);
        assert.equal(body.data.length, 31);
        assert.ok(body.data.every((d: any) => d.has_data === false && d.total_cost_chf === 0));
        assert.deepEqual(
          { totalRequests: body.totalRequests, totalCost: body.totalCost, summary: body.summary },
          {
            totalRequests: 0,
            totalCost: 0,
            summary: { month: 5, year: 2024, total_days: 31, average_cost_per_day: 0, peak_day: null, currency: 'CHF' },
          },
        );
        assert.match(text, /"total_cost_chf":0\.0,"total_synapses":0,"total_neurons":0,"has_data":false/);
      });

      it('defaults to the current UTC month', async () => {
        const { body } = await get(`/v1/analytics/usage/daily/${orgId}`);
        assert.deepEqual([body.summary.year, body.summary.month, body.data.length], [2025, 1, 31]);
        assert.deepEqual(
          [body.data[0].date, body.data[0].day_of_week, body.data[0].total_cost_chf],
          ['2025-01-01', 'Wednesday', 6],
        );
        assert.equal(body.summary.peak_day, '2025-01-01');
      });
    });

    describe('monthly usage', () => {
      it('lists the last 12 months with growth, across the year boundary', async () => {
        const { status, body, text } = await get(`/v1/analytics/usage/monthly/${orgId}`);
        assert.equal(status, 200, text);
        const entry = (
          year: number,
          month: number,
          name: string,
          cost: number,
          requests: number,
          synapses: number,
          tokens: number,
          growth: number | null,
        ) => ({
          month,
          year,
          month_name: name,
          total_cost_chf: cost,
          total_requests: requests,
          total_synapses: synapses,
          total_tokens: tokens,
          growth_rate_percent: growth,
        });
        const empty = (year: number, month: number, name: string, growth: number | null = null) =>
          entry(year, month, name, 0, 0, 0, 0, growth);
        assert.deepEqual(body.data, [
          entry(2024, 2, 'February', 4, 2, 201, 3020, null), // oldest entry
          entry(2024, 3, 'March', 2, 2, 23, 350, -50),
          entry(2024, 4, 'April', 2.25, 1, 7, 120, 12.5),
          empty(2024, 5, 'May', -100),
          entry(2024, 6, 'June', 1.125, 1, 3, 60, null), // May cost nothing
          empty(2024, 7, 'July', -100),
          empty(2024, 8, 'August'),
          empty(2024, 9, 'September'),
          empty(2024, 10, 'October'),
          empty(2024, 11, 'November'),
          entry(2024, 12, 'December', 4, 1, 40, 800, null),
          entry(2025, 1, 'January', 6, 1, 60, 1200, 50),
        ]);
        assert.equal(body.organization_id, orgId);
        assert.equal(body.period, 'monthly');
        assert.equal(body.totalRequests, 8);
        assert.equal(body.totalCost, 19.375);
        assert.deepEqual(body.summary, {
          start_month: '2024-02',
          end_month: '2025-01',
          months_included: 12,
          currency: 'CHF',
        });
        assert.match(
          text,
          /"total_cost_chf":6\.0,"total_requests":1,"total_synapses":60,"total_tokens":1200,"growth_rate_percent":50\.0\}/,
        );
      });

      it('honours months', async () => {
        const { body } = await get(`/v1/analytics/usage/monthly/${orgId}?months=2`);
        assert.deepEqual(
          body.data.map((d: any) => [d.year, d.month, d.growth_rate_percent]),
          [
            [2024, 12, null],
            [2025, 1, 50],
          ],
        );
        assert.equal(body.totalCost, 10);
        assert.deepEqual(body.summary, {
          start_month: '2024-12',
          end_month: '2025-01',
          months_included: 2,
          currency: 'CHF',
        });
      });
    });

    describe('yearly usage', () => {
      it('lists the last 3 years with growth', async () => {
        const { status, body, text } = await get(`/v1/analytics/usage/yearly/${orgId}`);
        assert.equal(status, 200, text);
        assert.deepEqual(body, {
          organization_id: orgId,
          period: 'yearly',
          data: [
            {
              year: 2023,
              total_cost_chf: 10,
              total_requests: 1,
              total_synapses: 1,
              total_tokens: 20,
              growth_rate_percent: null,
            },
            // 13.375 against 10
            {
              year: 2024,
              total_cost_chf: 13.375,
              total_requests: 7,
              total_synapses: 274,
              total_tokens: 4350,
              growth_rate_percent: 33.75,
            },
            // (6 - 13.375) / 13.375 = -55.1401…
            {
              year: 2025,
              total_cost_chf: 6,
              total_requests: 1,
              total_synapses: 60,
              total_tokens: 1200,
              growth_rate_percent: -55.14,
            },
          ],
          totalRequests: 9,
          totalCost: 29.375,
          summary: { start_year: 2023, end_year: 2025, years_included: 3, currency: 'CHF' },
        });
      });

      it('honours years', async () => {
        const { body } = await get(`/v1/analytics/usage/yearly/${orgId}?years=1`);
        assert.deepEqual(
          body.data.map((d: any) => [d.year, d.total_cost_chf, d.growth_rate_percent]),
          [[2025, 6, null]],
        );
      });
    });

    describe('API-key daily usage', () => {
      it('counts only usage made with a key, on its day', async () => {
        const { status, body, text } = await get(`/v1/analytics/api-keys/daily/${orgId}?year=2024&month=2`);
        assert.equal(status, 200, text);
        assert.deepEqual(body.period, {
          year: 2024,
          month: 2,
          startDate: '2024-02-01',
          endDate: '2024-02-29',
          daysInMonth: 29,
          daysWithApiUsage: 1,
        });
        assert.equal(body.dailyUsage.length, 29);
        assert.deepEqual(body.dailyUsage[28], {
          date: '2024-02-29',
          requests: 1,
          cost: 3,
          synapses: 200,
          neurons: 100,
        });
        assert.deepEqual(body.dailyUsage[0], { date: '2024-02-01', requests: 0, cost: 0, synapses: 0, neurons: 0 });
        const { generatedAt, ...summary } = body.summary;
        assert.deepEqual(summary, {
          organization_id: orgId,
          month: 2,
          year: 2024,
          totalApiKeyRequests: 1,
          totalApiKeyCost: 3,
          averageCostPerRequest: 3,
          total_synapses: 200,
          totalNeurons: 100,
        });
        assert.match(generatedAt, /^2025-01-20T12:00:00Z$/);
        assert.match(text, /"totalApiKeyCost":3\.0,"averageCostPerRequest":3\.0,"total_synapses":200\.0,/);
      });

      it('shows a month with only web usage as empty', async () => {
        const { body } = await get(`/v1/analytics/api-keys/daily/${orgId}?year=2024&month=4`);
        assert.equal(body.period.daysWithApiUsage, 0);
        assert.equal(body.summary.totalApiKeyRequests, 0);
        assert.equal(body.summary.averageCostPerRequest, 0);
      });

      it('keeps both sides of a month boundary', async () => {
        const { body } = await get(`/v1/analytics/api-keys/daily/${orgId}?year=2024&month=3`);
        assert.equal(body.period.daysWithApiUsage, 2);
        assert.deepEqual([body.dailyUsage[0].cost, body.dailyUsage[30].cost], [0.5, 1.5]);
        assert.equal(body.summary.totalApiKeyCost, 2);
        assert.equal(body.summary.averageCostPerRequest, 1);
      });
    });

    describe('top API keys', () => {
      it('lists the keys of a month by cost', async () => {
        const { status, body, text } = await get(`/v1/analytics/${orgId}/api-keys/top/12/2024`);
        assert.equal(status, 200, text);
        assert.deepEqual(body, {
          organization_id: orgId,
          period: { type: 'monthly', month: 12, year: 2024, start_date: '2024-12-01', end_date: '2024-12-31' },
          top_keys: [
            {
              api_key_id: k1,
              key_name: 'Production',
              total_requests: 1,
              total_cost: 4,
              total_synapses: 40,
              total_neurons: 40,
            },
          ],
          total_keys: 1,
          limit: 10,
        });
        assert.match(text, /"total_cost":4\.0,/);
        const january = (await get(`/v1/analytics/${orgId}/api-keys/top/1/2025`)).body;
        assert.deepEqual(
          january.top_keys.map((k: any) => [k.key_name, k.total_cost]),
          [['Batch', 6]],
        );
      });
    });

    it('answers an organization without usage with zeros everywhere', async () => {
      const empty = (await makeOrg(server())).id;
      const as = (await makeApiKey(server(), empty, { scopes: ['read:usage'] })).secret;
      const daily = (await get(`/v1/analytics/usage/daily/${empty}?year=2024&month=2`, as)).body;
      assert.deepEqual(
        [daily.totalCost, daily.totalRequests, daily.summary.peak_day, daily.data.length],
        [0, 0, null, 29],
      );
      const monthly = (await get(`/v1/analytics/usage/monthly/${empty}?months=24`, as)).body;
      assert.equal(monthly.data.length, 24);
      assert.ok(monthly.data.every((d: any) => d.total_cost_chf === 0 && d.growth_rate_percent === null));
      assert.equal(monthly.summary.start_month, '2023-02');
      const yearly = (await get(`/v1/analytics/usage/yearly/${empty}?years=10`, as)).body;
      assert.deepEqual(
        yearly.data.map((d: any) => d.year),
        [2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025],
      );
      assert.equal(yearly.totalCost, 0);
      const keysDaily = (await get(`/v1/analytics/api-keys/daily/${empty}`, as)).body;
      assert.deepEqual([keysDaily.period.daysWithApiUsage, keysDaily.summary.totalApiKeyCost], [0, 0]);
      const top = (await get(`/v1/analytics/${empty}/api-keys/top/1/2025?limit=1`, as)).body;
      assert.deepEqual([top.top_keys, top.total_keys, top.limit], [[], 0, 1]);
    });
  },
  { clock: () => NOW },
);
