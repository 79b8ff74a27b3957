/**
 * The request log: one JSON line per request carrying its trace id, route, status and duration;
 * no secret ever appears in it; and an internal failure is logged with its trace id while the
 * caller gets the generic envelope.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, it } from 'node:test';
import { sql } from 'kysely';
import { assertEnvelope, forEachDialect, makeOrg, type RequestOptions, type TestResponse, waitFor } from './harness.ts';

interface LogLine {
  level: number;
  msg: string;
  trace_id?: string;
  route?: string;
  status?: number;
  duration_ms?: number;
  organization_id?: string;
  err?: { message?: string };
}

function parsed(lines: string[]): LogLine[] {
  return lines.map((line) => JSON.parse(line) as LogLine);
}

forEachDialect('request log of a full scenario', (server) => {
  const sent: TestResponse[] = [];
  const secrets: string[] = [];
  let orgId: string;

  /** Every request of the scenario goes through here, so that its answer can be matched to a log line. */
  const call = async (method: string, url: string, options: RequestOptions = {}) => {
    const response = await server().request(method, url, options);
    sent.push(response);
    return response;
  };

  before(async () => {
    const s = server();
    secrets.push(s.adminKey);
    const org = await call('POST', '/v1/organizations', { key: s.adminKey, body: { name: 'Logged Org' } });
    assert.equal(org.status, 201, org.text);
    orgId = org.body.id;
    const writer = await call('POST', `/v1/organizations/${orgId}/api-keys`, {
      key: s.adminKey,
      body: { key_name: 'gateway', scopes: ['write:usage', 'read:usage', 'manage:keys'] },
    });
    assert.equal(writer.status, 201, writer.text);
    // The organization's own key creates the next one.
    const reader = await call('POST', `/v1/organizations/${orgId}/api-keys`, {
      key: writer.body.key,
      body: { key_name: 'reader', scopes: ['read:usage'], usage_limit_chf: 100 },
    });
    assert.equal(reader.status, 201, reader.text);
    secrets.push(writer.body.key, reader.body.key);
    const readerKey: string = reader.body.key;
    const other = await makeOrg(s);

    const events = Array.from({ length: 20 }, (_, i) => ({
      id: `log-${i}`,
      organization_id: orgId,
      api_key_id: writer.body.id,
      model: i % 2 ? 'gpt-4o' : 'gpt-4o-mini',
      neurons: 100 + i,
      synapses: 50 + i,
      cost: '0.25',
    }));
    assert.equal((await call('POST', '/v1/usage/events', { key: writer.body.key, body: { events } })).status, 200);
    await call('POST', '/v1/usage/events', { key: writer.body.key, body: { events } }); // a retry
    assert.equal((await call('GET', `/v1/analytics/usage/summary/${orgId}`, { key: readerKey })).status, 200);
    await call('GET', `/v1/analytics/api-keys/summary/${orgId}?year=2025&month=11`, {
      headers: { 'api-key': readerKey },
    });
    await call('GET', `/v1/analytics/api-keys/usage/${orgId}/${writer.body.id}`, { key: readerKey });

    // Errors of every kind, each of which must still be one log line with its trace id.
    const wrongSecret = `fak_${randomBytes(20).toString('hex')}`;
    secrets.push(wrongSecret);
    await call('GET', `/v1/analytics/usage/summary/${orgId}`);
    await call('GET', `/v1/analytics/usage/summary/${orgId}`, { key: wrongSecret });
    await call('GET', `/v1/analytics/api-keys/summary/${orgId}?month=13`, { key: readerKey });
    await call('GET', `/v1/analytics/usage/summary/${other.id}`, { key: readerKey });
    await call('GET', `/v1/analytics/api-keys/usage/${orgId}/apikey_doesnotexist`, { key: readerKey });
    await call('POST', '/v1/usage/events', {
      key: writer.body.key,
      rawBody: '{"events": [',
      headers: { 'content-type': 'application/json' },
    });
    await call('GET', '/v1/no/such/route', { key: readerKey });
    await call('GET', '/healthz');
    // A request's line is written once its answer has gone out, so it may trail the answer.
    const logged = (response: TestResponse) =>
      parsed(server().logs).some((l) => l.msg === 'request' && l.trace_id === response.headers.get('x-trace-id'));
    await waitFor(() => sent.every(logged), 'a log line for every request');
  });

  it('writes exactly one line per request, with trace id, route, status and duration', () => {
    const requestLines = parsed(server().logs).filter((line) => line.msg === 'request');
    assert.equal(requestLines.length, sent.length, 'no request without a line, no line without a request');
    for (const response of sent) {
      const traceId = response.headers.get('x-trace-id');
      assert.ok(traceId, 'every answer carries X-Trace-Id');
      const lines = requestLines.filter((line) => line.trace_id === traceId);
      assert.equal(lines.length, 1, `one line for ${traceId}`);
      const line = lines[0]!;
      assert.equal(line.status, response.status);
      assert.equal(typeof line.route, 'string');
      assert.ok(typeof line.duration_ms === 'number' && line.duration_ms >= 0);
      if (response.status >= 400)
        assert.equal(response.body.error.trace_id, traceId, 'the envelope names the same trace');
    }
    const summary = requestLines.find((l) => l.route === '/v1/analytics/usage/summary/:org_id' && l.status === 200);
    assert.equal(summary?.organization_id, orgId, 'the organization is logged');
    assert.ok(
      sent.some((r) => r.status === 400) && sent.some((r) => r.status === 401) && sent.some((r) => r.status === 403),
    );
    assert.ok(sent.some((r) => r.status === 404));
  });

  it('never logs a secret the scenario created or sent', () => {
    const log = server().logs.join('\n');
    assert.ok(secrets.length >= 4);
    for (const secret of secrets) {
      assert.ok(secret && !log.includes(secret), 'a secret reached the log');
      // Not even the part after the public prefix.
      assert.ok(!log.includes(secret.slice(12)), 'part of a secret reached the log');
    }
  });
});

forEachDialect('an internal failure', (server) => {
  it('answers the generic 500 envelope and logs the error under the same trace id', async () => {
    const s = server();
    const org = await makeOrg(s);
    // Break the database under the running app, as a bad deploy or an operator's mistake would.
    await sql`drop table rollup_org_model_month`.execute(s.storage.db);

    const response = await s.request('GET', `/v1/analytics/usage/summary/${org.id}`, { key: s.adminKey });
    assertEnvelope(assert, response, 500, 'INTERNAL_ERROR');
    assert.equal(response.body.error.message, 'An unexpected error occurred');
    assert.equal(response.body.error.system_message, 'Internal server error');
    assert.equal(response.body.error.details, undefined);
    assert.doesNotMatch(response.text, /rollup|select|from|sqlite|relation|\.ts:\d+|\n\s+at /i);

    const traceId = response.body.error.trace_id;
    await waitFor(
      () => parsed(s.logs).some((line) => line.trace_id === traceId && line.msg === 'request'),
      'the log line of the failed request',
    );
    const lines = parsed(s.logs).filter((line) => line.trace_id === traceId);
    const error = lines.find((line) => line.level >= 50);
    assert.ok(error, 'the failure is logged at error level with the trace id');
    assert.match(error.err?.message ?? '', /rollup_org_model_month/, 'the log has what went wrong');
    assert.equal(lines.find((line) => line.msg === 'request')?.status, 500);
  });
});
