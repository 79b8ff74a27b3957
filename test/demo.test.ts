/**
 * `freddy-analytics demo` on any day of the month, with the clock pinned: every model it uses
 * has a price in the default sheet (nothing is left unpriced), and its key limits give a
 * plausible month: the production key at warning level (80-100 %) this month, and no key over
 * its limit in any month of the demo, on the 1st just after midnight as on the last day. On
 * both engines, since the demo is stored and read back through each.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createDemo } from '../src/cli/demo.ts';
import { BATCH_MODEL } from '../src/cli/demo-budget.ts';
import { DEMO_MODELS } from '../src/cli/demo-usage.ts';
import { addMonths, yearMonthOf } from '../src/time/calendar.ts';
import { forEachDialect } from './harness.ts';

const DAYS: Array<[string, number]> = [
  ['2026-03-01T00:00:00.000Z', 2],
  ['2026-03-01T00:30:00.000Z', 1],
  ['2026-03-01T09:30:00.000Z', 2],
  ['2026-03-15T12:00:00.000Z', 2],
  ['2026-02-28T23:59:59.999Z', 2],
  ['2028-02-29T18:00:00.000Z', 2],
  ['2026-03-31T23:59:59.999Z', 2],
];

let now = Date.parse(DAYS[0]![0]);

forEachDialect(
  'demo',
  (server) => {
    it('uses only models the default price sheet prices', async () => {
      const sheet = await server().request('GET', '/v1/pricing', { key: server().adminKey });
      const priced = new Set(sheet.body.models.map((m: { model: string }) => m.model));
      const unpriced = [...DEMO_MODELS.map((m) => m.model), BATCH_MODEL].filter((model) => !priced.has(model));
      assert.deepEqual(unpriced, []);
    });

    for (const [day, months] of DAYS) {
      it(`on ${day} (${months} months): production key at warning, nothing exceeded, nothing unpriced`, async () => {
        now = Date.parse(day);
        const demo = await createDemo(server().ctx, { seed: 7, months, now });
        const get = async (url: string) => {
          const response = await server().request('GET', url, { key: demo.read_key });
          assert.equal(response.status, 200, response.text);
          return response.body;
        };
        const [production, ...others] = demo.api_keys;
        assert.equal(production!.name, 'Production gateway');
        assert.ok(production!.monthly_limit !== null && production!.monthly_limit > 0);

        for (let back = 0; back < months; back++) {
          const { year, month } = addMonths(yearMonthOf(now), -back);
          for (const key of demo.api_keys) {
            const usage = await get(
              `/v1/analytics/api-keys/usage/${demo.organization_id}/${key.id}?year=${year}&month=${month}`,
            );
            const shown = `${key.name} ${year}-${month}: ${JSON.stringify(usage.limit)}`;
            assert.notEqual(usage.limit.status, 'exceeded', shown);
            if (key === production && back === 0) {
              assert.equal(usage.limit.status, 'warning', shown);
              assert.ok(usage.limit.utilizationPercentage >= 80 && usage.limit.utilizationPercentage < 100, shown);
            }
          }
        }
        for (const key of others) assert.equal(key.monthly_limit, null);
        const { year, month } = yearMonthOf(now);
        const limits = await get(`/v1/analytics/usage/limits/${demo.organization_id}?year=${year}&month=${month}`);
        assert.equal(limits.summary.overall_status, 'warning');

        const unpriced = await server().request('GET', '/v1/pricing/unpriced', { key: server().adminKey });
        assert.deepEqual(unpriced.body.models, []);
      });
    }
  },
  { clock: () => now },
);
