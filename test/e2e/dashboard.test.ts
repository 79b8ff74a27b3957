/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core), on both engines
 * and at 1280 and 420 px wide: a server with demo data and an organization with a tiny cost,
 * the page signed in with a read-only key or a key manager's key, and every number shown
 * compared with what the API answers for the same key, formatting included. No console error,
 * failed request or error answer is allowed where the key may see what the page shows.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { createDemo, type DemoResult } from '../../src/cli/demo.ts';
import { fromRoot } from '../../src/project-root.ts';
import { type Browser, launchBrowser, SKIP_WITHOUT_BROWSER } from '../browser.ts';
import {
  axisTicks,
  chartData,
  chfText,
  type DashboardPage,
  horizontalOverflow,
  integer,
  keyRow,
  newTab,
  settled,
  signIn,
  tooltipLines,
} from '../dashboard-browser.ts';
import { CHF, DIALECTS, ingest, makeApiKey, makeOrg, startTestServer, type TestServer } from '../harness.ts';

const SCREENSHOT_DIR = fromRoot('test-results');
const WIDTHS = [1280, 420];

const monthOf = (date: string) => ({ year: Number(date.slice(0, 4)), month: Number(date.slice(5, 7)) });
const monthText = ({ year, month }: { year: number; month: number }) => `${year}-${String(month).padStart(2, '0')}`;
const monthsBefore = (m: { year: number; month: number }, count: number) => {
  const index = m.year * 12 + m.month - 1 - count;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
};

for (const dialect of DIALECTS) {
  describe(`dashboard in Chromium [${dialect}]`, {
    skip: SKIP_WITHOUT_BROWSER,
  }, () => {
    let server: TestServer;
    let demo: DemoResult;
    let managerKey: string;
    let tiny: { orgId: string; readKey: string; keyId: string };
    let browser: Browser;
    let context: BrowserContext;

    before(async () => {
      server = await startTestServer(dialect);
      demo = await createDemo(server.ctx, { seed: 42, months: 6, now: Date.now() });
      managerKey = (
        await makeApiKey(server, demo.organization_id, { name: 'Key manager', scopes: ['read:usage', 'manage:keys'] })
      ).secret;
      // One request of 0.0019 CHF today, by a key with a limit of 0.01 CHF.
      const org = await makeOrg(server, { name: 'Tiny Org' });
      const gateway = await makeApiKey(server, org.id, { name: 'Tiny gateway', monthlyLimitNano: CHF / 100n });
      const reader = await makeApiKey(server, org.id, { name: 'Tiny reader', scopes: ['read:usage'] });
      await ingest(server, [
        {
          id: 'tiny-1',
          organization_id: org.id,
          api_key_id: gateway.id,
          model: 'gpt-4o-mini',
          neurons: 3,
          synapses: 1,
          cost: '0.0019',
        },
      ]);
      tiny = { orgId: org.id, readKey: reader.secret, keyId: gateway.id };
      browser = await launchBrowser();
      context = browser.context;
    });

    after(async () => {
      await browser?.close();
      await server?.close();
    });

    const api = async (url: string, key = demo.read_key) => {
      const response = await server.request('GET', url, { key });
      assert.equal(response.status, 200, response.text);
      return response.body;
    };
    const dashboardUrl = () => `${server.baseUrl}/dashboard`;
    const text = async (tab: DashboardPage, testId: string) =>
      (await tab.page.textContent(`[data-testid="${testId}"]`))?.trim();

    /** The daily chart against the API's daily series of `month`: days after today not drawn, the others as answered. */
    async function assertDailyChart(
      tab: DashboardPage,
      orgId: string,
      key: string,
      month: { year: number; month: number },
    ) {
      const today = (await api(`/v1/analytics/usage/summary/${orgId}`, key)).timeRange.end as string;
      const daily = await api(`/v1/analytics/usage/daily/${orgId}?year=${month.year}&month=${month.month}`, key);
      type Day = { date: string; total_cost_chf: number; total_requests: number };
      const drawn = (d: Day, value: number) => (d.date > today ? null : value);
      assert.deepEqual(await chartData(tab.page, 'daily-chart'), [
        daily.data.map((d: Day) => drawn(d, d.total_cost_chf)),
        daily.data.map((d: Day) => drawn(d, d.total_requests)),
      ]);
      assert.equal(
        await text(tab, 'month-totals'),
        `CHF ${chfText(daily.totalCost)} in ${integer.format(daily.totalRequests)} requests`,
      );
      return { daily, today };
    }

    /** Each key row shows the API's cost, limit use and status for `month`, inside the window. */
    async function assertKeyRows(tab: DashboardPage, orgId: string, key: string, keyIds: string[], month: string) {
      const [year, m] = month.split('-').map(Number);
      for (const id of keyIds) {
        const usage = await api(`/v1/analytics/api-keys/usage/${orgId}/${id}?month=${m}&year=${year}`, key);
        const row = await keyRow(tab.page, id);
        assert.ok(row, `a row for ${id}`);
        assert.equal(row.cost?.text, chfText(usage.usage.totalCost), `${id} cost`);
        const used = usage.limit.utilizationPercentage;
        // A share the API rounded to 0.00 while the key did spend says so.
        const usedText = used === 0 && usage.usage.totalCost > 0 ? '< 0.01 %' : `${used?.toFixed(2)} %`;
        assert.equal(row.used?.text, used === null ? '–' : usedText, `${id} used`);
        assert.equal(row.status?.text, usage.limit.status, `${id} status`);
        assert.ok(row.key?.text.includes(usage.apiKeyName), `${id} name`);
        for (const column of ['key', 'cost', 'used', 'status'] as const) {
          assert.ok(row[column]?.visible, `${id}: the ${column} cell is inside the window`);
        }
      }
    }

    it('draws the hourly usage of a chosen day and the weekly heatmap as the API answers them', async () => {
      const tab = await newTab(context, 1280);
      assert.equal(await signIn(tab, dashboardUrl(), demo.organization_id, demo.read_key), 'ready');
      const org = demo.organization_id;
      type Hour = { total_cost_chf: number; total_requests: number };
      const assertHourly = async (date: string) => {
        const hourly = await api(`/v1/analytics/usage/hourly/${org}?date=${date}`);
        assert.deepEqual(await chartData(tab.page, 'hourly-chart'), [
          hourly.data.map((h: Hour) => h.total_cost_chf),
          hourly.data.map((h: Hour) => h.total_requests),
        ]);
        const totals = `CHF ${chfText(hourly.totalCost)} in ${integer.format(hourly.totalRequests)} requests`;
        assert.ok((await text(tab, 'day-totals'))?.startsWith(totals), totals);
      };
      const today = (await api(`/v1/analytics/usage/summary/${org}`)).timeRange.end as string;
      assert.equal(await tab.page.inputValue('#day'), today);
      await assertHourly(today);

      // A day a week ago, chosen in the page.
      const chosen = new Date(Date.parse(`${today}T00:00:00Z`) - 7 * 86_400_000).toISOString().slice(0, 10);
      await tab.page.fill('#day', chosen);
      await tab.page.waitForSelector(`#hourly-title:has-text("${chosen}")`);
      await assertHourly(chosen);

      const heatmap = await api(`/v1/analytics/usage/heatmap/${org}?days=30`);
      type Cell = { getAttribute(name: string): string | null; textContent: string | null };
      const cells = await tab.page.$$eval('[data-testid="heatmap"] td', (tds: Cell[]) =>
        tds.map((td) => [
          td.getAttribute('data-day'),
          td.getAttribute('data-hour'),
          Number(td.getAttribute('data-value')),
        ]),
      );
      const hours = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));
      const expected = Object.entries(heatmap.heatmap_data as Record<string, Record<string, number>>).flatMap(
        ([day, values]) => hours.map((hour) => [day, hour, values[hour]]),
      );
      assert.deepEqual(await tab.page.$$eval('#heatmap-hours th', (ths: Cell[]) => ths.map((th) => th.textContent)), [
        '',
        ...hours,
      ]);
      assert.equal(cells.length, 7 * 24);
      assert.deepEqual(cells, expected);
      assert.ok((await text(tab, 'heatmap-note'))?.startsWith(`Busiest weekday: ${heatmap.patterns.peak_day};`));
      assert.deepEqual(tab.problems, []);
      await tab.page.close();
    });

    it("shows the month's top end users and a tag's top values, cached input apart, as the breakdown answers them", async () => {
      const org = await makeOrg(server, { name: 'Breakdown Org' });
      const reader = await makeApiKey(server, org.id, { name: 'Breakdown reader', scopes: ['read:usage'] });
      const at = new Date(Date.now() - 3_600_000).toISOString();
      const event = (id: string, extra: Record<string, unknown>) => ({
        id,
        organization_id: org.id,
        model: 'gpt-4o',
        neurons: 1000,
        synapses: 10,
        cost: '0.5',
        timestamp: at,
        ...extra,
      });
      await ingest(server, [
        event('b1', { end_user: 'alice', cached_neurons: 600, tags: { feature: 'chat' } }),
        event('b2', { end_user: 'alice', cached_neurons: 0, tags: { feature: 'search' } }),
        event('b3', { end_user: 'bob', cached_neurons: 250, cost: '2', tags: { feature: 'chat' } }),
        event('b4', { cached_neurons: 0 }),
      ] as never[]);
      const tab = await newTab(context, 1280);
      assert.equal(await signIn(tab, dashboardUrl(), org.id, reader.secret), 'ready');
      const month = (await api(`/v1/analytics/usage/summary/${org.id}`, reader.secret)).timeRange.end.slice(0, 7);
      const next = monthText(monthsBefore(monthOf(`${month}-01`), -1));
      const breakdown = (by: string) =>
        api(
          `/v1/analytics/usage/breakdown/${org.id}?window=month&from=${month}-01&to=${next}-01&group_by=${by}&limit=10`,
          reader.secret,
        );
      type Row = { group: Record<string, string | null>; neurons: number; cached_neurons: number; cost: number };
      const assertShown = async (by: string, none: string) => {
        const answer = await breakdown(by);
        const names = answer.rows.map((r: Row) => r.group[by] ?? none);
        assert.deepEqual(await chartData(tab.page, 'breakdown-chart'), [
          answer.rows.map((r: Row) => r.cached_neurons),
          answer.rows.map((r: Row) => r.neurons - r.cached_neurons),
        ]);
        const rows = await tab.page.$$eval('[data-testid="breakdown"] tbody tr', (trs: any[]) =>
          trs.map((tr) => [...tr.children].map((td: any) => td.textContent)),
        );
        assert.deepEqual(
          rows,
          answer.rows.map((r: Row & { requests: number }, i: number) => [
            names[i],
            integer.format(r.requests),
            integer.format(r.neurons),
            integer.format(r.cached_neurons),
            chfText(r.cost),
          ]),
        );
        return names;
      };
      assert.deepEqual(await assertShown('end_user', '(no end user)'), ['bob', 'alice', '(no end user)']);
      assert.equal(
        await text(tab, 'breakdown-note'),
        'CHF 3.50 in 4 requests; 850 of 4,000 input neurons read from the prompt cache.',
      );
      await tab.page.selectOption('#breakdown-by', 'tag');
      await tab.page.fill('#breakdown-tag', 'feature');
      await tab.page.press('#breakdown-tag', 'Enter');
      await tab.page.waitForSelector('#breakdown-title:has-text("Top values of tag feature")');
      await settled(tab.page);
      assert.deepEqual(await assertShown('tag:feature', '(without feature)'), ['chat', 'search', '(without feature)']);
      assert.deepEqual(tab.problems, []);
      await tab.page.close();
    });

    for (const width of WIDTHS) {
      describe(`${width} px wide`, () => {
        it('shows the summary, charts and key budgets the API reports to a read-only key, asking nothing it may not', async () => {
          const tab = await newTab(context, width);
          assert.equal(await signIn(tab, dashboardUrl(), demo.organization_id, demo.read_key), 'ready');
          const org = demo.organization_id;

          const summary = await api(`/v1/analytics/usage/summary/${org}`);
          assert.ok(summary.totalRequests > 0);
          assert.equal(await text(tab, 'total-cost'), chfText(summary.totalCost));
          assert.equal(await text(tab, 'total-requests'), integer.format(summary.totalRequests));
          assert.equal(await text(tab, 'average-cost'), chfText(summary.totalCost / summary.totalRequests));
          assert.equal(await text(tab, 'current-month-cost'), chfText(summary.currentMonth.cost));
          assert.equal(await text(tab, 'top-model'), summary.topModels[0].model);
          assert.deepEqual(await chartData(tab.page, 'models-chart'), [
            summary.topModels.map((m: { cost: number }) => m.cost),
          ]);

          const monthly = await api(`/v1/analytics/usage/monthly/${org}?months=12`);
          assert.deepEqual(await chartData(tab.page, 'monthly-chart'), [
            monthly.data.map((m: { total_cost_chf: number }) => m.total_cost_chf),
          ]);
          const current = monthOf(summary.timeRange.end);
          const { daily, today } = await assertDailyChart(tab, org, demo.read_key, current);
          const lastDay = daily.data.at(-1).date as string;
          if (today < lastDay) {
            const future = (await chartData(tab.page, 'daily-chart'))[0]!.slice(Number(today.slice(8)));
            assert.ok(future.length > 0 && future.every((v) => v === null), 'days after today are not drawn');
          }

          if (dialect === 'sqlite') {
            fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
            await tab.page.screenshot({ path: path.join(SCREENSHOT_DIR, `dashboard-${width}.png`), fullPage: true });
          }

          // Tooltips and axes write CHF as the cards do.
          const firstDay = daily.data[0];
          assert.deepEqual(await tooltipLines(tab.page, 'daily-chart', 0, 0), [
            ` Cost: CHF ${chfText(firstDay.total_cost_chf)}`,
          ]);
          for (const [chart, scale] of [
            ['daily-chart', 'cost'],
            ['monthly-chart', 'y'],
          ] as const) {
            for (const tick of await axisTicks(tab.page, chart, scale)) assert.equal(tick.label, chfText(tick.value));
          }

          const [gateway, staging, readOnly] = demo.api_keys;
          await assertKeyRows(tab, org, demo.read_key, [gateway!.id, staging!.id], monthText(current));
          assert.equal((await keyRow(tab.page, gateway!.id))?.status?.text, 'warning');
          assert.equal((await keyRow(tab.page, staging!.id))?.status?.text, 'no_limit');
          // Without manage:keys the listing is not asked for: the key without limit or usage is not shown.
          assert.equal(await keyRow(tab.page, readOnly!.id), undefined);
          const apiCalls = tab.requests.filter((u) => new URL(u).pathname.startsWith('/v1/'));
          assert.equal(new URL(apiCalls[0]!).pathname, '/v1/me', 'the key is asked what it may do first');
          assert.ok(!apiCalls.some((u) => u.includes('/api-keys?')), 'no key listing');

          assert.equal(await horizontalOverflow(tab.page), 0, 'no horizontal overflow');
          assert.deepEqual(tab.problems, []);
          await tab.page.close();
        });

        it('keeps the significant digits of a tiny cost on cards, charts, axes, tooltips and keys', async () => {
          const tab = await newTab(context, width);
          assert.equal(await signIn(tab, dashboardUrl(), tiny.orgId, tiny.readKey), 'ready');
          const summary = await api(`/v1/analytics/usage/summary/${tiny.orgId}`, tiny.readKey);
          assert.equal(summary.totalCost, 0.0019);
          assert.equal(await text(tab, 'total-cost'), '0.0019');
          assert.equal(await text(tab, 'current-month-cost'), '0.0019');
          assert.equal(await text(tab, 'average-cost'), '0.0019');

          const { daily, today } = await assertDailyChart(
            tab,
            tiny.orgId,
            tiny.readKey,
            monthOf(summary.timeRange.end),
          );
          const todayIndex = Number(today.slice(8)) - 1;
          const [costs] = await chartData(tab.page, 'daily-chart');
          assert.deepEqual(costs!.slice(0, todayIndex), Array(todayIndex).fill(0), 'past quiet days stay 0');
          assert.equal(costs![todayIndex], 0.0019);
          assert.equal(daily.data[todayIndex].total_cost_chf, 0.0019);
          assert.deepEqual(await tooltipLines(tab.page, 'daily-chart', 0, todayIndex), [' Cost: CHF 0.0019']);
          const monthlyIndex = 11; // the current month is the last of 12
          assert.deepEqual(await tooltipLines(tab.page, 'monthly-chart', 0, monthlyIndex), [' CHF 0.0019']);
          assert.match((await tooltipLines(tab.page, 'models-chart', 0, 0)).join(), /: CHF 0\.0019 \(100\.00 %\)$/);
          for (const [chart, scale] of [
            ['daily-chart', 'cost'],
            ['monthly-chart', 'y'],
          ] as const) {
            const ticks = await axisTicks(tab.page, chart, scale);
            assert.ok(ticks.length > 1);
            for (const tick of ticks) {
              assert.doesNotMatch(tick.label, /e/i, `${chart}: ${tick.label}`);
              assert.equal(tick.label, chfText(tick.value));
            }
            assert.ok(
              ticks.some((t) => t.label === '0.0002' || t.label === '0.0005'),
              JSON.stringify(ticks),
            );
          }
          const row = await keyRow(tab.page, tiny.keyId);
          assert.equal(row?.cost?.text, '0.0019');
          assert.equal(row?.used?.text, '19.00 %');
          await assertKeyRows(tab, tiny.orgId, tiny.readKey, [tiny.keyId], monthText(monthOf(summary.timeRange.end)));
          assert.equal(await horizontalOverflow(tab.page), 0);
          assert.deepEqual(tab.problems, []);
          await tab.page.close();
        });

        it('follows the month picked, in the daily chart and the key budgets, also after a reload', async () => {
          const tab = await newTab(context, width);
          assert.equal(await signIn(tab, dashboardUrl(), demo.organization_id, demo.read_key), 'ready');
          const org = demo.organization_id;
          const current = monthOf((await api(`/v1/analytics/usage/summary/${org}`)).timeRange.end);
          const [gateway, staging] = demo.api_keys;
          const picked = monthsBefore(current, 2);

          await tab.page.fill('#month', monthText(picked));
          assert.equal(await settled(tab.page, monthText(picked)), 'ready');
          const check = async (month: { year: number; month: number }, keyIds = [gateway!.id, staging!.id]) => {
            await assertDailyChart(tab, org, demo.read_key, month);
            await assertKeyRows(tab, org, demo.read_key, keyIds, monthText(month));
            assert.match((await tab.page.textContent('#daily-title')) ?? '', new RegExp(monthText(month)));
            assert.equal(await tab.page.inputValue('#month'), monthText(month));
          };
          await check(picked);
          // The monthly chart marks the month shown.
          const colors = await tab.page.evaluate(
            () => (globalThis as any).Chart.getChart('monthly-chart').data.datasets[0].backgroundColor,
          );
          assert.equal(colors.filter((c: string) => c === colors[9]).length, 1, 'one bar stands out');
          assert.notEqual(colors[9], colors[0]);
          assert.equal(new URL(tab.page.url()).searchParams.get('month'), monthText(picked));

          await tab.page.reload();
          assert.equal(await settled(tab.page, monthText(picked)), 'ready');
          await check(picked);

          await tab.page.click('#month-prev');
          const earlier = monthsBefore(picked, 1);
          assert.equal(await settled(tab.page, monthText(earlier)), 'ready');
          await check(earlier);

          // A month without usage: empty charts, no error.
          const quiet = { year: 2021, month: 1 };
          await tab.page.fill('#month', monthText(quiet));
          assert.equal(await settled(tab.page, monthText(quiet)), 'ready');
          // Shown for a read-only key: the keys with a limit; the others spent nothing then.
          await check(quiet, [gateway!.id]);
          assert.equal(await keyRow(tab.page, staging!.id), undefined);
          const [costs, requests] = await chartData(tab.page, 'daily-chart');
          assert.ok([...costs!, ...requests!].every((v) => v === 0));
          assert.equal(await tab.page.textContent('#message'), '');

          assert.equal(await horizontalOverflow(tab.page), 0);
          assert.deepEqual(tab.problems, []);
          await tab.page.close();
        });

        it('lists every key through the key listing for a key with manage:keys', async () => {
          const tab = await newTab(context, width);
          assert.equal(await signIn(tab, dashboardUrl(), demo.organization_id, managerKey), 'ready');
          const current = monthOf((await api(`/v1/analytics/usage/summary/${demo.organization_id}`)).timeRange.end);
          const ids = demo.api_keys.map((k) => k.id);
          await assertKeyRows(tab, demo.organization_id, managerKey, ids, monthText(current));
          assert.ok(tab.requests.some((u) => u.includes(`/v1/organizations/${demo.organization_id}/api-keys?`)));
          assert.equal(await tab.page.textContent('#keys-note'), '');
          assert.equal(await horizontalOverflow(tab.page), 0);
          assert.deepEqual(tab.problems, []);
          await tab.page.close();
        });

        it('accepts a well-formed organization id and refuses a malformed one before asking the server', async () => {
          const tab = await newTab(context, width);
          await tab.page.goto(dashboardUrl());
          const validity = async (value: string) => {
            await tab.page.fill('#org-id', value);
            return tab.page.$eval('#org-id', (input: any) => ({
              valid: input.validity.valid,
              patternMismatch: input.validity.patternMismatch,
            }));
          };
          assert.deepEqual(await validity('org_Ab9_x-'), { valid: true, patternMismatch: false });
          for (const bad of ['org_bad id', 'organization', 'org_', 'apikey_abc', `org_${'a'.repeat(65)}`]) {
            assert.deepEqual(await validity(bad), { valid: false, patternMismatch: true }, bad);
          }
          await tab.page.fill('#api-key', demo.read_key);
          await tab.page.click('button[type=submit]');
          assert.equal(await tab.page.getAttribute('body', 'data-state'), 'signed-out');
          assert.ok(!tab.requests.some((u) => u.includes('/v1/')), 'nothing was asked');
          assert.equal(await horizontalOverflow(tab.page), 0);
          assert.deepEqual(tab.problems, [], 'the pattern compiles');
          await tab.page.close();
        });
      });
    }

    it('serves its icon, which the page links and its Content-Security-Policy allows', async () => {
      const ico = await fetch(`${server.baseUrl}/favicon.ico`);
      assert.equal(ico.status, 200);
      assert.equal(ico.headers.get('content-type'), 'image/x-icon');
      assert.deepEqual([...new Uint8Array(await ico.arrayBuffer()).slice(0, 4)], [0, 0, 1, 0], 'an ICO file');

      const tab = await newTab(context, 1280);
      await tab.page.goto(`${server.baseUrl}/dashboard`);
      const loaded = await tab.page.evaluate(async () => {
        const doc = (globalThis as any).document;
        const links = [...doc.querySelectorAll('link[rel="icon"]')].map((l: any) => l.href);
        const sizes = [];
        for (const src of [...links, '/favicon.ico']) {
          const image = new (globalThis as any).Image();
          image.src = src;
          await image.decode();
          sizes.push(image.naturalWidth);
        }
        return { links, sizes };
      });
      assert.equal(loaded.links.length, 1);
      assert.ok(
        loaded.sizes.every((w: number) => w > 0),
        JSON.stringify(loaded),
      );
      assert.deepEqual(tab.problems, []);
      await tab.page.close();
    });

    it('says so when the key belongs to another organization, without asking for its data', async () => {
      const tab = await newTab(context, 1280);
      const state = await signIn(tab, dashboardUrl(), demo.organization_id, tiny.readKey);
      assert.match(state, new RegExp(`belongs to organization ${tiny.orgId}`));
      const apiCalls = tab.requests.filter((u) => u.includes('/v1/'));
      assert.deepEqual(
        apiCalls.map((u) => new URL(u).pathname),
        ['/v1/me'],
      );
      assert.deepEqual(tab.problems, []);
      await tab.page.close();
    });

    it('talks only to its own server and keeps the key in session storage only', async () => {
      const tab = await newTab(context, 1280);
      assert.equal(await signIn(tab, dashboardUrl(), demo.organization_id, demo.read_key), 'ready');
      assert.ok(tab.requests.length > 0);
      for (const url of tab.requests) assert.ok(url.startsWith(server.baseUrl), `request to ${url}`);
      const stored = await tab.page.evaluate(() => ({
        session: (globalThis as any).sessionStorage.getItem('freddy.apiKey'),
        local: Object.keys((globalThis as any).localStorage).length,
      }));
      assert.deepEqual(stored, { session: demo.read_key, local: 0 });
      await tab.page.close();
    });

    it('shows the API error when the key is wrong', async () => {
      const tab = await newTab(context, 1280);
      const state = await signIn(
        tab,
        dashboardUrl(),
        demo.organization_id,
        'fak_wrongwrongwrongwrongwrongwrongwrongwrong',
      );
      assert.match(state, /^error: .*INVALID_API_KEY/);
      await tab.page.close();
    });
  });
}
