/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core): a server with
 * demo data, the page loaded, an organization and a read-only key entered, and every number
 * shown compared with what the API answers for the same key.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { createDemo, type DemoResult } from '../src/cli/demo.ts';
import { fromRoot } from '../src/project-root.ts';
import { DIALECTS, startTestServer, type TestServer } from './harness.ts';

/** The first of these browsers on PATH; under CI=true a missing one fails the suite instead of skipping it. */
const BROWSERS = ['chromium', 'chromium-browser', 'google-chrome'];
const CHROMIUM = findOnPath(BROWSERS);
const IN_CI = process.env.CI === 'true';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT_DIR = fromRoot('test-results');

const chf = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const integer = new Intl.NumberFormat('en-US');

for (const dialect of DIALECTS) {
  describe(`dashboard in Chromium [${dialect}]`, {
    skip: !CHROMIUM && !IN_CI && `none of ${BROWSERS.join(', ')} is on PATH`,
  }, () => {
    let server: TestServer;
    let demo: DemoResult;
    let userDataDir: string;
    let context: BrowserContext;
    let page: Page;
    const requested: string[] = [];
    const consoleErrors: string[] = [];

    before(async () => {
      if (!CHROMIUM) throw new Error(`CI=true, but none of ${BROWSERS.join(', ')} is on PATH`);
      server = await startTestServer(dialect);
      demo = await createDemo(server.storage, { seed: 42, months: 6, now: Date.now() });
      userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-chromium-'));
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        args: CHROMIUM_ARGS,
        headless: true,
        viewport: { width: 1280, height: 900 },
      });
      page = context.pages()[0] ?? (await context.newPage());
      page.on('request', (request) => requested.push(request.url()));
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
    });

    after(async () => {
      await context?.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
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

      assert.deepEqual(
        consoleErrors.filter((e) => /Content Security Policy|404|stylesheet/i.test(e)),
        [],
        'the stylesheet and icon load under the CSP',
      );
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

    it('accepts a well-formed organization id and refuses a malformed one', async () => {
      const errorsBefore = consoleErrors.length;
      const validity = async (value: string) => {
        await page.fill('#org-id', value);
        return page.$eval('#org-id', (input: any) => ({
          valid: input.validity.valid,
          patternMismatch: input.validity.patternMismatch,
        }));
      };
      assert.deepEqual(await validity('org_Ab9_x-'), { valid: true, patternMismatch: false });
      for (const bad of ['org_bad id', 'organization', 'org_', 'apikey_abc', `org_${'a'.repeat(65)}`]) {
        assert.deepEqual(await validity(bad), { valid: false, patternMismatch: true }, bad);
      }
      assert.deepEqual(consoleErrors.slice(errorsBefore), [], 'the pattern compiles');
    });

    it('serves its icon, which the page links and its Content-Security-Policy allows', async () => {
      const ico = await fetch(`${server.baseUrl}/favicon.ico`);
      assert.equal(ico.status, 200);
      assert.equal(ico.headers.get('content-type'), 'image/x-icon');
      assert.deepEqual([...new Uint8Array(await ico.arrayBuffer()).slice(0, 4)], [0, 0, 1, 0], 'an ICO file');
      const errorsBefore = consoleErrors.length;
      const loaded = await page.evaluate(async () => {
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
      assert.deepEqual(consoleErrors.slice(errorsBefore), []);
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

function findOnPath(names: string[]): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of names) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return file;
      } catch {}
    }
  }
  return undefined;
}
