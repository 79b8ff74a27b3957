/**
 * Hostile input on every route of test/route-cases.ts: property-based mutations of path
 * parameters, query strings, headers and bodies (wrong types, huge, negative and fractional
 * numbers, "NaN" and "Infinity" strings, SQL and prototype-pollution payloads), plus deep JSON,
 * invalid UTF-8 and a 10 MB body; hostile headers both with an invalid key and with a valid
 * one. Properties: never a 5xx, the envelope on every non-2xx, and no change to any table by
 * a rejected request (a fingerprint of every row of every table compared, not only row
 * counts). FUZZ_RUNS scales the number of cases: 10 by default, so that the suite stays fast
 * (about 3,000 cases per engine); `npm run soak` runs 400.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, it } from 'node:test';
import fc from 'fast-check';
import { forEachDialect, makeApiKey, makeOrg, type TestResponse, type TestServer } from './harness.ts';
import { hostileJson, hostileString, mutatedBody, pollutionPayloads } from './hostile-input.ts';
import { ROUTE_CASES, type RouteCase, type RouteContext } from './route-cases.ts';
import { tableContents } from './table-contents.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10);
const OPTIONS = { includeErrorInReport: true };
/** Lone surrogates cannot be percent-encoded; they travel as U+FFFD, as a browser would send them. */
const encode = (s: string) => encodeURIComponent(Buffer.from(s, 'utf8').toString('utf8'));
let cases = 0;
/** Each server's table fingerprints after the last request sent to it. */
const latest = new WeakMap<TestServer, Record<string, string>>();
/** Requests of the fixed test per route with a body: deep JSON, invalid UTF-8, pollution, NUL, 10 MB. */
const FIXED_CASES = 6 + 2 + 4 + 1 + 1;

/** Sends one request and checks the three properties. */
async function check(
  server: TestServer,
  method: string,
  url: string,
  init: { headers?: Record<string, string>; body?: string | Buffer } = {},
) {
  cases++;
  // Requests run one at a time and nothing else writes meanwhile, so the tables as they were
  // after the previous request are as they are before this one: one fingerprint per request.
  const before = latest.get(server) ?? (await tableContents(server));
  const response = await server.request(method, url, { headers: init.headers, rawBody: init.body });
  const label = `${method} ${url.slice(0, 200)} → ${response.status} ${response.text.slice(0, 300)}`;
  const after = await tableContents(server);
  latest.set(server, after);
  assert.ok(response.status < 500, label);
  if (response.status >= 300) {
    assertAnyEnvelope(response, label);
    assert.deepEqual(after, before, `a rejected request changed a table: ${label}`);
  }
  return response;
}

function assertAnyEnvelope(response: TestResponse, label: string): void {
  const error = response.body?.error;
  assert.equal(response.body?.success, false, label);
  assert.equal(typeof error?.code, 'string', label);
  assert.equal(error.status, response.status, label);
  for (const field of ['message', 'system_message', 'type', 'trace_id', 'timestamp']) {
    assert.equal(typeof error[field], 'string', `${field}: ${label}`);
  }
  assert.equal(response.headers.get('x-trace-id'), error.trace_id, label);
}

const json = (key: string) => ({ 'content-type': 'application/json', 'x-api-key': key });

forEachDialect('hostile input', (server) => {
  let ctx: RouteContext;
  let keys: string[];

  before(async () => {
    cases = 0;
    const s = server();
    const org = await makeOrg(s);
    const key = await makeApiKey(s, org.id);
    ctx = { orgId: org.id, apiKeyId: key.id, unique: randomUUID(), spareKeyId: (await makeApiKey(s, org.id)).id };
    keys = [s.adminKey, key.secret];
  });

  const key = fc.constantFrom(0, 1);
  const pathOf = (route: RouteCase, c: RouteContext) => route.path(c);

  for (const route of ROUTE_CASES) {
    const hasParams = route.route.includes(':');
    if (hasParams) {
      it(`${route.method} ${route.route}: hostile path parameters`, async () => {
        await fc.assert(
          fc.asyncProperty(hostileString, hostileString, fc.boolean(), key, async (a, b, encoded, k) => {
            const e = (s: string) => (encoded ? encode(s) : s.replace(/[#?/\\%\s]/g, '_') || '_');
            const url = pathOf(route, { ...ctx, orgId: e(a), apiKeyId: e(b), spareKeyId: e(b) });
            await check(server(), route.method, url, { headers: json(keys[k]!), body: bodyText(route, ctx) });
          }),
          { ...OPTIONS, numRuns: RUNS * 2 },
        );
      });
    }

    it(`${route.method} ${route.route}: hostile query strings`, async () => {
      const names = fc.constantFrom(
        'year',
        'month',
        'months',
        'years',
        'limit',
        'page',
        'page_size',
        'at',
        '__proto__',
        'constructor',
      );
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(names, hostileString), { maxLength: 4 }), key, async (pairs, k) => {
          const base = pathOf(route, ctx).split('?')[0]!;
          const query = pairs.map(([n, v]) => `${n}=${encode(v)}`).join('&');
          await check(server(), route.method, `${base}?${query}`, {
            headers: json(keys[k]!),
            body: bodyText(route, ctx),
          });
        }),
        { ...OPTIONS, numRuns: RUNS * 2 },
      );
    });

    const headerValue = hostileString.map((s) => s.replace(/[^\x20-\x7e]/g, '?'));
    const contentType = fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
      'multipart/form-data; boundary=x',
      '',
    );

    it(`${route.method} ${route.route}: hostile headers, invalid key`, async () => {
      await fc.assert(
        fc.asyncProperty(headerValue, contentType, fc.boolean(), async (apiKey, type, alternative) => {
          const headers: Record<string, string> = { [alternative ? 'api-key' : 'x-api-key']: apiKey };
          if (type) headers['content-type'] = type;
          await check(server(), route.method, pathOf(route, ctx), { headers, body: bodyText(route, ctx) });
        }),
        { ...OPTIONS, numRuns: RUNS },
      );
    });

    it(`${route.method} ${route.route}: hostile headers, valid key`, async () => {
      // Headers a client may set that the server reads or could be confused by.
      const names = fc.constantFrom(
        'accept',
        'accept-encoding',
        'content-encoding',
        'accept-language',
        'x-forwarded-for',
        'x-request-id',
        'x-trace-id',
        'cookie',
        'if-none-match',
        'api-key',
      );
      await fc.assert(
        fc.asyncProperty(
          key,
          fc.boolean(),
          contentType,
          fc.array(fc.tuple(names, headerValue), { maxLength: 3 }),
          async (k, alternative, type, extra) => {
            const headers: Record<string, string> = Object.fromEntries(extra);
            headers[alternative ? 'api-key' : 'x-api-key'] = keys[k]!;
            if (type) headers['content-type'] = type;
            const c = { ...ctx, unique: randomUUID() };
            await check(server(), route.method, pathOf(route, c), { headers, body: bodyText(route, c) });
          },
        ),
        { ...OPTIONS, numRuns: RUNS },
      );
    });

    if (!route.body) continue;

    it(`${route.method} ${route.route}: hostile bodies`, async () => {
      const valid = route.body!({ ...ctx, unique: randomUUID() });
      await fc.assert(
        fc.asyncProperty(fc.oneof(mutatedBody(valid), hostileJson), key, async (body, k) => {
          const c = { ...ctx, unique: randomUUID() };
          await check(server(), route.method, pathOf(route, c), {
            headers: json(keys[k]!),
            body: JSON.stringify(body),
          });
        }),
        { ...OPTIONS, numRuns: RUNS * 6 },
      );
    });

    it(`${route.method} ${route.route}: deep JSON, invalid UTF-8, prototype pollution, 10 MB`, async () => {
      const headers = json(keys[0]!);
      const url = pathOf(route, ctx);
      for (const depth of [1_000, 10_000, 400_000]) {
        await check(server(), route.method, url, { headers, body: `${'['.repeat(depth)}${']'.repeat(depth)}` });
        await check(server(), route.method, url, {
          headers,
          body: `{"events":${'['.repeat(depth)}${']'.repeat(depth)}}`,
        });
      }
      await check(server(), route.method, url, {
        headers,
        body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]),
      });
      await check(server(), route.method, url, { headers, body: Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]) });
      for (const payload of pollutionPayloads(route.body!({ ...ctx, unique: randomUUID() }))) {
        await check(server(), route.method, url, { headers, body: payload });
      }
      // PostgreSQL cannot store NUL in text: every string of a valid body with one appended.
      const withNul = JSON.stringify(route.body!({ ...ctx, unique: randomUUID() }), (_, v) =>
        typeof v === 'string' ? `${v}\u0000` : v,
      );
      assert.equal((await check(server(), route.method, url, { headers, body: withNul })).status, 400);
      const huge = await check(server(), route.method, url, { headers, body: Buffer.alloc(10 * 1_048_576, 0x5b) });
      assert.equal(huge.status, 413);
      // Nothing leaked into the prototypes of this process (the app runs in it).
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
    });
  }

  it('ran every case FUZZ_RUNS asks for', (t) => {
    const perRoute = (route: RouteCase) =>
      (route.route.includes(':') ? 2 * RUNS : 0) + 2 * RUNS + 2 * RUNS + (route.body ? 6 * RUNS + FIXED_CASES : 0);
    assert.equal(
      cases,
      ROUTE_CASES.map(perRoute).reduce((a, b) => a + b, 0),
    );
    t.diagnostic(`${server().dialect}: ${cases} hostile requests, none answered 5xx`);
  });
});

function bodyText(route: RouteCase, ctx: RouteContext): string | undefined {
  return route.body ? JSON.stringify(route.body({ ...ctx, unique: randomUUID() })) : undefined;
}
