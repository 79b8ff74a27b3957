/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core): a server with
 * demo data, the page loaded, an organization and a read-only key entered, and every number
 * shown compared with what the API answers for the same key.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { createDemo, type DemoResult } from '../src/cli/demo.ts';
import { fromRoot } from '../src/project-root.ts';
import { type Browser, launchBrowser, SKIP_WITHOUT_BROWSER } from './browser.ts';
import { DIALECTS, startTestServer, type TestServer } from './harness.ts';

const SCREENSHOT_DIR = fromRoot('test-results');

const chf = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const integer = new Intl.NumberFormat('en-US');

for (const dialect of DIALECTS) {
  describe(`dashboard in Chromium [${dialect}]`, { skip: SKIP_WITHOUT_BROWSER }, () => {
    let server: TestServer;
    let demo: DemoResult;
    let browser: Browser;
    let page: Page;
    const requested: string[] = [];

    before(async () => {
      server = await startTestServer(dialect);
      demo = await createDemo(server.storage, { seed: 42, months: 6, now: Date.now() });
      browser = await launchBrowser();
      page = browser.context.pages()[0] ?? (await browser.context.newPage());
      page.on('request', (request) => requested.push(request.url()));
    });

    after(async () => {
      await browser?.close();
      await server?.close();
    });

    const api = async (url: string) => {
      const response = await server.request('GET', url, { key: demo.read_key });
      assert.equal(response.status, 200, response.text);
      return response.body;
    };

    it('shows the summary, charts and key budgets the API reports', async () => {
      await page.goto(`${server.baseUrl}/dashboard`);
      await page.fill('#org-id', demo.organization_id);
      await page.fill('#api-key', demo.read_key);
      await page.click('button[type=submit]');
      await page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });

      const charts = await page.evaluate(() =>
        ['models-chart', 'monthly-chart', 'daily-chart'].map((id) => {
          const chart = (globalThis as any).Chart.getChart(id);
          return chart ? chart.data.datasets[0].data.length : 0;
        }),
      );
      const summary = await api(`/v1/analytics/usage/summary/${demo.organization_id}`);
      const today = new Date();
      const daysInMonth = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + 1, 0)).getUTCDate();
      assert.deepEqual(charts, [summary.topModels.length, 12, daysInMonth]);

      const text = async (testId: string) => (await page.textContent(`[data-testid="${testId}"]`))?.trim();
      assert.ok(summary.totalRequests > 0);
      assert.equal(await text('total-cost'), chf.format(summary.totalCost));
      assert.equal(await text('total-requests'), integer.format(summary.totalRequests));
      assert.equal(await text('current-month-cost'), chf.format(summary.currentMonth.cost));
      assert.equal(await text('top-model'), summary.topModels[0].model);

      const monthly = await api(`/v1/analytics/usage/monthly/${demo.organization_id}?months=12`);
      const monthlyShown = await page.evaluate(
        () => (globalThis as any).Chart.getChart('monthly-chart').data.datasets[0].data,
      );
      assert.deepEqual(
        monthlyShown,
        monthly.data.map((m: { total_cost_chf: number }) => m.total_cost_chf),
      );

      const now = new Date();
      const query = `year=${now.getUTCFullYear()}&month=${now.getUTCMonth() + 1}`;
      const daily = await api(`/v1/analytics/usage/daily/${demo.organization_id}?${query}`);
      const dailyShown = await page.evaluate(
        () => (globalThis as any).Chart.getChart('daily-chart').data.datasets[1].data,
      );
      assert.deepEqual(
        dailyShown,
        daily.data.map((d: { total_requests: number }) => d.total_requests),
      );

      // The read-only key cannot list keys: the page shows those with a limit or with usage this month.
      const [gateway, staging] = demo.api_keys;
      for (const key of [gateway!, staging!]) {
        const usage = await api(
          `/v1/analytics/api-keys/usage/${demo.organization_id}/${key.id}?month=${now.getUTCMonth() + 1}&year=${now.getUTCFullYear()}`,
        );
        assert.equal(await text(`key-status-${key.id}`), usage.limit.status);
        const row = page.locator(`tr[data-key-id="${key.id}"] td`);
        assert.equal((await row.nth(3).textContent())?.trim(), chf.format(usage.usage.totalCost));
      }
      assert.equal(await text(`key-status-${gateway!.id}`), 'warning');
      assert.equal(await text(`key-status-${staging!.id}`), 'no_limit');

      fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
      await page.screenshot({
        path: path.join(SCREENSHOT_DIR, dialect === 'sqlite' ? 'dashboard.png' : `dashboard-${dialect}.png`),
        fullPage: true,
      });
    });

    it('talks only to its own server and keeps the key in session storage only', async () => {
      assert.ok(requested.length > 0);
      for (const url of requested) assert.ok(url.startsWith(server.baseUrl), `request to ${url}`);
      const stored = await page.evaluate(() => ({
        session: (globalThis as any).sessionStorage.getItem('freddy.apiKey'),
        local: Object.keys((globalThis as any).localStorage).length,
      }));
      assert.deepEqual(stored, { session: demo.read_key, local: 0 });
    });

    it('shows the API error when the key is wrong', async () => {
      await page.fill('#org-id', demo.organization_id);
      await page.fill('#api-key', 'fak_wrongwrongwrongwrongwrongwrongwrongwrong');
      await page.click('button[type=submit]');
      await page.waitForSelector('body[data-state="error"]', { timeout: 30_000 });
      assert.match((await page.textContent('#message')) ?? '', /INVALID_API_KEY/);
    });
  });
}
