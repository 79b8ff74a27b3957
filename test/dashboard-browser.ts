/**
 * Helpers for the dashboard's browser tests (the browser itself: test/browser.ts): a page that
 * records everything that went wrong on it, and reads of what Chart.js drew.
 */
import type { BrowserContext, Page } from 'playwright-core';

const twoDecimals = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const upToSixDecimals = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 6 });
export const integer = new Intl.NumberFormat('en-US');

/**
 * CHF as the page must write an amount the API answered (6 decimals at most): 2 decimals from
 * 1 CHF, below that 4 significant digits.
 */
export function chfText(value: number): string {
  if (value === 0 || Math.abs(value) >= 1) return twoDecimals.format(value);
  return upToSixDecimals.format(Number(value.toPrecision(4)));
}

export interface DashboardPage {
  page: Page;
  /** Console errors, page errors, failed requests and answers of 400 and above, in order. */
  problems: string[];
  /** Every URL the page requested, in order. */
  requests: string[];
}

/** A new tab of `width` × 900 px that records its problems; nothing loaded yet. */
export async function newTab(context: BrowserContext, width: number): Promise<DashboardPage> {
  const page = await context.newPage();
  await page.setViewportSize({ width, height: 900 });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
  });
  page.on('request', (request) => requests.push(request.url()));
  return { page, problems, requests };
}

/** Opens the dashboard, signs in and waits until it has drawn everything or shown an error. */
export async function signIn(tab: DashboardPage, url: string, orgId: string, key: string): Promise<string> {
  await tab.page.goto(url);
  await tab.page.fill('#org-id', orgId);
  await tab.page.fill('#api-key', key);
  await tab.page.click('button[type=submit]');
  return settled(tab.page);
}

/** Waits for the page to be ready or in error, and answers which (with the message on error). */
export async function settled(page: Page, month?: string): Promise<string> {
  const ready = month ? `body[data-state="ready"][data-month="${month}"]` : 'body[data-state="ready"]';
  await page.waitForSelector(`${ready}, body[data-state="error"]`, { timeout: 30_000 });
  const state = await page.getAttribute('body', 'data-state');
  return state === 'ready' ? 'ready' : `error: ${await page.textContent('#message')}`;
}

/** The datasets' data of a chart, as Chart.js holds them. */
export function chartData(page: Page, id: string): Promise<Array<Array<number | null>>> {
  return page.evaluate(
    (chartId) => (globalThis as any).Chart.getChart(chartId).data.datasets.map((d: { data: unknown[] }) => d.data),
    id,
  );
}

/** The lines of the tooltip Chart.js shows for one data point. */
export function tooltipLines(page: Page, id: string, datasetIndex: number, index: number): Promise<string[]> {
  return page.evaluate(
    ([chartId, d, i]) => {
      const chart = (globalThis as any).Chart.getChart(chartId);
      chart.tooltip.setActiveElements([{ datasetIndex: d, index: i }], { x: 0, y: 0 });
      chart.update();
      return chart.tooltip.body.flatMap((b: { lines: string[] }) => b.lines);
    },
    [id, datasetIndex, index] as const,
  );
}

/** The tick values and labels of one axis of a chart. */
export function axisTicks(page: Page, id: string, scale: string): Promise<Array<{ value: number; label: string }>> {
  return page.evaluate(
    ([chartId, scaleId]) =>
      (globalThis as any).Chart.getChart(chartId).scales[scaleId].ticks.map((t: { value: number; label: string }) => ({
        value: t.value,
        label: t.label,
      })),
    [id, scale] as const,
  );
}

/** How far the page is wider than the window, in CSS pixels (0 when it fits). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const root = (globalThis as any).document.documentElement;
    return Math.max(0, root.scrollWidth - (globalThis as any).innerWidth);
  });
}

/** The text of a key row's cells by column, and whether each is visible inside the window. */
export async function keyRow(page: Page, keyId: string) {
  return page.evaluate((id) => {
    const row = (globalThis as any).document.querySelector(`tr[data-key-id="${id}"]`);
    if (!row) return undefined;
    const cells: Record<string, { text: string; visible: boolean }> = {};
    for (const td of row.children) {
      const box = td.getBoundingClientRect();
      cells[td.dataset.col] = {
        text: td.textContent.trim(),
        visible: box.width > 0 && box.left >= 0 && box.right <= (globalThis as any).innerWidth,
      };
    }
    return cells;
  }, keyId);
}
