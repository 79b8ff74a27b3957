/**
 * Errors that say how to fix the request: a key sent as `Authorization: Bearer …` gets a 401
 * that points to X-API-Key, and a body that is not JSON a 415 that names application/json and
 * the content type that was sent. Neither answer depends on the engine (the 401 comes before
 * any key is looked up, the 415 before the body is read), so one engine is enough.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertEnvelope, DIALECTS, makeApiKey, makeOrg, startTestServer, type TestServer } from './harness.ts';

describe(`error answers that say how to fix the request [${DIALECTS[0]}]`, () => {
  let server: TestServer;
  let orgId: string;
  let secret: string;
  const event = () => ({ id: 'e1', organization_id: orgId, model: 'gpt-4o', neurons: 10, synapses: 5, cost: '0.5' });
  const usage = async () =>
    (await server.request('GET', `/v1/analytics/usage/summary/${orgId}`, { key: secret })).body.totalRequests;

  before(async () => {
    server = await startTestServer(DIALECTS[0]!);
    orgId = (await makeOrg(server)).id;
    secret = (await makeApiKey(server, orgId)).secret;
  });
  after(async () => server.close());

  it('answers a key in Authorization (Bearer or another scheme) with where the key goes', async () => {
    for (const authorization of [`Bearer ${secret}`, `Basic ${Buffer.from(`u:${secret}`).toString('base64')}`]) {
      const read = await server.request('GET', `/v1/analytics/usage/summary/${orgId}`, {
        headers: { authorization },
      });
      assertEnvelope(assert, read, 401, 'AUTHENTICATION_REQUIRED');
      assert.equal(
        read.body.error.system_message,
        'Send the API key in the X-API-Key header (or Api-Key); the Authorization header is not read',
      );
      const write = await server.request('POST', '/v1/usage/events', {
        headers: { authorization },
        body: { events: [event()] },
      });
      assertEnvelope(assert, write, 401, 'AUTHENTICATION_REQUIRED');
      assert.match(write.body.error.system_message, /X-API-Key header/);
    }
    assert.equal(await usage(), 0, 'nothing was written');
  });

  it('keeps the documented answer without any key, and reads X-API-Key when Authorization comes too', async () => {
    const none = await server.request('GET', `/v1/analytics/usage/summary/${orgId}`);
    assertEnvelope(assert, none, 401, 'AUTHENTICATION_REQUIRED');
    assert.equal(none.body.error.system_message, 'No API key provided');
    const both = await server.request('GET', `/v1/analytics/usage/summary/${orgId}`, {
      key: secret,
      headers: { authorization: 'Bearer something-else' },
    });
    assert.equal(both.status, 200, both.text);
  });

  it('answers a body that is not JSON with the content type it must have and the one it has', async () => {
    const cases: Array<[string | undefined, string]> = [
      ['text/plain', 'Content-Type "text/plain"'],
      ['application/x-www-form-urlencoded', 'Content-Type "application/x-www-form-urlencoded"'],
      ['application/xml; charset=utf-8', 'Content-Type "application/xml; charset=utf-8"'],
      [undefined, 'no Content-Type'],
    ];
    for (const [contentType, named] of cases) {
      const response = await server.request('POST', '/v1/usage/events', {
        key: secret,
        // Bytes: fetch sends no Content-Type of its own for them (it would for a string).
        rawBody: Buffer.from(JSON.stringify({ events: [event()] })),
        headers: contentType ? { 'content-type': contentType } : {},
      });
      assertEnvelope(assert, response, 415, 'UNSUPPORTED_MEDIA_TYPE');
      assert.equal(
        response.body.error.system_message,
        `The body must be JSON, sent with Content-Type: application/json; this request has ${named}`,
      );
    }
    const limits = await server.request('PUT', `/v1/analytics/usage/limits/${orgId}`, {
      key: secret,
      rawBody: 'monthly_api_limit=5',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assertEnvelope(assert, limits, 415, 'UNSUPPORTED_MEDIA_TYPE');
    assert.match(limits.body.error.system_message, /application\/json; .*"application\/x-www-form-urlencoded"/);
    assert.equal(await usage(), 0, 'nothing was written');
  });
});
