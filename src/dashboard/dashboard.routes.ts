/**
 * The dashboard: a static page and its script, served by the API process. The page asks for
 * an organization id and an API key, then reads everything through the public API with that
 * key, so it can show nothing the key could not read itself. Chart.js is served from the
 * installed package: the dashboard works on machines without internet access.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { fromRoot } from '../project-root.ts';

// The page and its script are not compiled: they are served from the sources.
const here = fromRoot('src', 'dashboard');
// The CommonJS entry sits next to the UMD build in chart.js's dist folder.
const chartJsFile = path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js');

const ASSETS: Record<string, { file: string; type: string; summary: string; operationId: string }> = {
  '/dashboard': {
    file: path.join(here, 'page.html'),
    type: 'text/html; charset=utf-8',
    summary: 'The dashboard page (HTML): summary, top models, monthly and daily usage, key budgets',
    operationId: 'getDashboard',
  },
  '/dashboard/dashboard.js': {
    file: path.join(here, 'dashboard.js'),
    type: 'text/javascript; charset=utf-8',
    summary: "The dashboard's script",
    operationId: 'getDashboardScript',
  },
  '/dashboard/assets/chart.umd.js': {
    file: chartJsFile,
    type: 'text/javascript; charset=utf-8',
    summary: 'Chart.js, served from the installed package',
    operationId: 'getChartJs',
  },
};

export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  for (const [url, asset] of Object.entries(ASSETS)) {
    // Read once at start-up: the files are small and never change while the process runs.
    const body = fs.readFileSync(asset.file);
    app.get(
      url,
      {
        schema: {
          summary: asset.summary,
          operationId: asset.operationId,
          description: 'Public: the page asks for a key and calls the API with it from the browser.',
          tags: ['dashboard'],
        },
      },
      async (_request, reply) =>
        reply
          .type(asset.type)
          .header('cache-control', 'no-cache')
          .header('x-content-type-options', 'nosniff')
          // Only this origin's scripts and API: a key typed into the page cannot leak elsewhere.
          .header(
            'content-security-policy',
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
          )
          .send(body),
    );
  }
}
