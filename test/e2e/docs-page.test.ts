/**
 * The interactive API reference at /docs in a real browser: Swagger UI loads the document from
 * /openapi.json (not the plugin's copy under /docs) and shows every operation of it. The page
 * reads nothing from the database, so one engine is enough.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Browser, launchBrowser, SKIP_WITHOUT_BROWSER } from '../browser.ts';
import { DIALECTS, startTestServer, type TestServer } from '../harness.ts';

describe(`/docs in Chromium [${DIALECTS[0]}]`, { skip: SKIP_WITHOUT_BROWSER }, () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    server = await startTestServer(DIALECTS[0]!);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loads /openapi.json and shows each of its operations', async () => {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const requested: string[] = [];
    page.on('request', (request) => requested.push(new URL(request.url()).pathname));
    await page.goto(`${server.baseUrl}/docs/`);
    await page.waitForSelector('.opblock', { timeout: 30_000 });

    const documents = requested.filter((p) => !p.startsWith('/docs/static/') && p !== '/docs/');
    assert.deepEqual(documents, ['/openapi.json']);
    const doc = (await server.request('GET', '/openapi.json')).body as { paths: Record<string, object> };
    const operations = Object.values(doc.paths).flatMap((item) => Object.keys(item)).length;
    assert.equal(await page.locator('.opblock').count(), operations);
    assert.equal((await page.locator('.info .link, .info a').first().textContent())?.trim(), '/openapi.json');
  });
});
