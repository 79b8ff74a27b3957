/**
 * The dashboard: a static page, its stylesheet, script modules and icon, served by the API
 * process. The page asks for an organization id and an API key, then reads everything through
 * the public API with that key, so it can show nothing the key could not read itself. Chart.js
 * is served from the installed package: the dashboard works on machines without internet access.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { fromRoot } from '../project-root.ts';

// The page and its files are not compiled: they are served from the sources.
const here = fromRoot('src', 'dashboard');
// The CommonJS entry sits next to the UMD build in chart.js's dist folder.
const chartJsFile = path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js');

const JS = 'text/javascript; charset=utf-8';
const script = (name: string, summary: string, operationId: string) => ({
  file: path.join(here, name),
  type: JS,
  summary,
  operationId,
});

/** Each file, with the operationId the OpenAPI document gives it (stable: clients may name it). */
const ASSETS: Record<string, { file: string; type: string; summary: string; operationId: string }> = {
  '/dashboard': {
    file: path.join(here, 'page.html'),
    type: 'text/html; charset=utf-8',
    summary: 'The dashboard page (HTML): summary, top models, monthly and daily usage, key budgets',
    operationId: 'getDashboard',
  },
  '/dashboard/dashboard.css': {
    file: path.join(here, 'dashboard.css'),
    type: 'text/css; charset=utf-8',
    summary: "The dashboard's stylesheet",
    operationId: 'getDashboardStylesheet',
  },
  '/dashboard/dashboard.js': script('dashboard.js', "The dashboard's script (an ES module)", 'getDashboardScript'),
  '/dashboard/charts.js': script('charts.js', "The dashboard's charts (an ES module)", 'getDashboardCharts'),
  '/dashboard/breakdown.js': script(
    'breakdown.js',
    "The dashboard's breakdown of a month by end user or tag (an ES module)",
    'getDashboardBreakdown',
  ),
  '/dashboard/format.js': script(
    'format.js',
    'How the dashboard writes CHF, counts and months (an ES module)',
    'getDashboardFormat',
  ),
  '/dashboard/assets/chart.umd.js': {
    file: chartJsFile,
    type: JS,
    summary: 'Chart.js, served from the installed package',
    operationId: 'getChartJs',
  },
  '/dashboard/favicon.svg': {
    file: path.join(here, 'favicon.svg'),
    type: 'image/svg+xml',
    summary: "The dashboard's icon",
    operationId: 'getDashboardIcon',
  },
  // favicon.svg rendered at 16, 32 and 48 px, for browsers that ask for /favicon.ico.
  '/favicon.ico': {
    file: path.join(here, 'favicon.ico'),
    type: 'image/x-icon',
    summary: 'The icon browsers ask for by default',
    operationId: 'getFavicon',
  },
};

// Only this origin's files and API: a key typed into the page cannot leak elsewhere, and
// nothing inline runs or styles the page.
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  // Someone who opens the server's address in a browser lands on the dashboard.
  app.get(
    '/',
    {
      schema: {
        summary: 'Redirect to the dashboard',
        operationId: 'redirectToDashboard',
        description: 'Public: a browser opening the server lands on /dashboard.',
        tags: ['dashboard'],
        response: { 302: { type: 'null', description: 'Location: /dashboard' } },
      },
    },
    async (_request, reply) => reply.redirect('/dashboard', 302),
  );
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
          .header('content-security-policy', CONTENT_SECURITY_POLICY)
          .send(body),
    );
  }
}
