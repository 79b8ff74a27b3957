/**
 * Text that would not be stored as sent: lone UTF-16 surrogates, invalid UTF-8 bytes and NUL.
 * Both engines store a lone surrogate as U+FFFD, and a lenient decoder turns invalid bytes into
 * U+FFFD, so distinct ids would become one in storage. Every such request is a 400 naming the
 * field, through the API, the ingestion service and the CLI import alike, and writes nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { importFile } from '../src/cli/import.ts';
import { AppError } from '../src/errors.ts';
import { toUsageEvent } from '../src/modules/ingestion/event-input.ts';
import { ingestUsage } from '../src/modules/ingestion/ingestion.service.ts';
import { checkRollups } from '../src/modules/rollups/check.ts';
import { writeBatchInOneStatement } from '../src/storage/postgres/batch-statement.ts';
import { toNumber } from '../src/storage/values.ts';
import { assertEnvelope, type EventInput, forEachDialect, makeApiKey, makeOrg, type TestServer } from './harness.ts';

const SURROGATE = 'must be well-formed Unicode (no lone surrogates)';

/** UTF-8 of `text` with each '@' replaced by the byte 0xFF and each '#' by 0xFE, neither valid in UTF-8. */
function withBytes(text: string): Buffer {
  return Buffer.concat(
    text
      .split(/([@#])/)
      .map((part) => (part === '@' ? Buffer.from([0xff]) : part === '#' ? Buffer.from([0xfe]) : Buffer.from(part))),
  );
}

async function storedIds(server: TestServer, orgId: string): Promise<string[]> {
  const rows = await server.storage.db
    .selectFrom('usage_events')
    .select('id')
    .where('organization_id', '=', orgId)
    .execute();
  return rows.map((row) => row.id).sort();
}

async function rollupRequests(server: TestServer, orgId: string): Promise<number> {
  const row = await server.storage.db
    .selectFrom('rollup_org_model_month')
    .select((eb) => eb.fn.sum('requests').as('n'))
    .where('organization_id', '=', orgId)
    .executeTakeFirstOrThrow();
  return toNumber(row.n ?? 0);
}

forEachDialect('text that storage would change', (server) => {
  let orgId: string;
  let key: Awaited<ReturnType<typeof makeApiKey>>;
  let dir: string;
  const event = (id: string, extra: Partial<EventInput> = {}): EventInput => ({
    id,
    organization_id: orgId,
    model: 'gpt-4o',
    neurons: 10,
    synapses: 2,
    cost: '0.5',
    timestamp: '2025-11-15T12:00:00Z',
    ...extra,
  });
  const post = (body: unknown) => server().request('POST', '/v1/usage/events', { key: key.secret, body });

  before(async () => {
    orgId = (await makeOrg(server())).id;
    key = await makeApiKey(server(), orgId);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-text-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses ids that differ only in a lone surrogate, naming each field, and writes nothing', async () => {
    // JSON.stringify sends them as the escapes "a\ud800" and "a\ud801".
    const response = await post({
      events: [event('ok-1'), event('a\ud800'), event('a\ud801'), event('ok-2', { model: 'gpt-\udc004o' })],
    });
    assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
    assert.deepEqual(response.body.error.details.errors, [
      { field: 'events[1].id', reason: SURROGATE },
      { field: 'events[2].id', reason: SURROGATE },
      { field: 'events[3].model', reason: SURROGATE },
    ]);
    assert.deepEqual(await storedIds(server(), orgId), []);
    assert.equal(await rollupRequests(server(), orgId), 0);
  });

  it('answers 400 for a body that is not valid UTF-8, and stores none of its events', async () => {
    const body = withBytes(JSON.stringify({ events: [event('b@'), event('b#')] }));
    const response = await server().request('POST', '/v1/usage/events', {
      key: key.secret,
      rawBody: body,
      headers: { 'content-type': 'application/json' },
    });
    assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
    assert.deepEqual(response.body.error.details.errors, [{ field: 'body', reason: 'must be valid UTF-8' }]);
    assert.deepEqual(await storedIds(server(), orgId), []);
  });

  it('answers 400 for a body nested deeper than 32 levels, and stores none of its events', async () => {
    // An organization of its own: the tests below list every id of theirs.
    const deepOrg = (await makeOrg(server())).id;
    const deepKey = await makeApiKey(server(), deepOrg);
    const deepEvent = (id: string) => ({ ...event(id), organization_id: deepOrg });
    const send = (text: string) =>
      server().request('POST', '/v1/usage/events', {
        key: deepKey.secret,
        rawBody: text,
        headers: { 'content-type': 'application/json' },
      });
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    // `{"events":[` opens two levels.
    const tooDeep = await send(`{"events":[${JSON.stringify(deepEvent('deep-1'))},${nested(31)}]}`);
    assertEnvelope(assert, tooDeep, 400, 'INVALID_REQUEST');
    assert.deepEqual(tooDeep.body.error.details.errors, [
      { field: 'body', reason: 'must not nest arrays and objects deeper than 32 levels' },
    ]);
    const huge = await send(`{"events":${nested(400_000)}}`);
    assert.deepEqual(huge.body.error.details.errors, tooDeep.body.error.details.errors);
    // Exactly 32 levels is parsed, and refused for what it holds.
    const deepest = await send(`{"events":[${JSON.stringify(deepEvent('deep-2'))},${nested(30)}]}`);
    assertEnvelope(assert, deepest, 400, 'INVALID_REQUEST');
    assert.equal(deepest.body.error.details.errors[0].field, 'events[1]');
    assert.deepEqual(await storedIds(server(), deepOrg), []);
    // Brackets inside strings, escaped quotes included, open nothing.
    const id = `deep-"${'[{'.repeat(40)}\\"`;
    const accepted = await send(JSON.stringify({ events: [deepEvent(id)] }));
    assert.equal(accepted.status, 200, accepted.text);
    assert.deepEqual(await storedIds(server(), deepOrg), [id]);
  });

  it('stores ids that differ in characters near the refused ones as distinct events', async () => {
    const ids = ['c\u00fe', 'c\u00ff', 'c\ufffd', 'c\ud83d\ude00', 'c\uffff'];
    const response = await post({ events: ids.map((id) => event(id)) });
    assert.deepEqual(response.body, { success: true, accepted: ids.length, duplicates: 0, unpriced: [] });
    assert.deepEqual(await storedIds(server(), orgId), [...ids].sort());
    assert.equal(await rollupRequests(server(), orgId), ids.length);
    assert.deepEqual((await checkRollups(server().storage.db, orgId)).differences, []);
  });

  it('refuses the same in key names, organization names and object keys, on every route', async () => {
    const keyName = await server().request('POST', `/v1/organizations/${orgId}/api-keys`, {
      key: key.secret,
      body: { key_name: 'prod \ud800', scopes: ['read:usage'] },
    });
    assertEnvelope(assert, keyName, 400, 'INVALID_REQUEST');
    assert.deepEqual(keyName.body.error.details.errors, [{ field: 'key_name', reason: SURROGATE }]);
    const orgName = await server().request('POST', '/v1/organizations', {
      key: server().adminKey,
      body: { name: '\udfffAcme' },
    });
    assertEnvelope(assert, orgName, 400, 'INVALID_REQUEST');
    assert.deepEqual(orgName.body.error.details.errors, [{ field: 'name', reason: SURROGATE }]);
    const objectKey = await post({ events: [{ ...event('k1'), '\ud800': 1 }] });
    assertEnvelope(assert, objectKey, 400, 'INVALID_REQUEST');
    assert.deepEqual(objectKey.body.error.details.errors, [
      { field: 'events[0]', reason: 'must not contain keys that are not well-formed Unicode' },
    ]);
    const organizations = await server()
      .storage.db.selectFrom('organizations')
      .select('name')
      .where('name', 'like', '%Acme')
      .execute();
    assert.deepEqual(organizations, []);
  });

  it('refuses such ids in the ingestion service itself, by index, for callers other than the API', async () => {
    const inputs = [event('s1'), event('s\ud800'), event('s\u0000')];
    await assert.rejects(
      ingestUsage(server().ctx, { kind: 'admin', keyId: 'test' }, inputs, Date.now()),
      (error: unknown) => {
        assert.ok(error instanceof AppError && error.code === 'INVALID_REQUEST');
        assert.deepEqual(error.details?.errors, [
          { index: 1, field: 'events[1].id', reason: SURROGATE },
          { index: 2, field: 'events[2].id', reason: 'must not contain NUL characters' },
        ]);
        return true;
      },
    );
    assert.equal((await storedIds(server(), orgId)).includes('s1'), false);
  });

  it('imports a file with the same rule and reasons: bad lines are reported, the rest is stored', async () => {
    const line = (id: string) => JSON.stringify(event(id));
    const ndjson = path.join(dir, 'events.ndjson');
    const lines = [line('i1'), line('i\ud800'), line('i\u0000'), line('i\u00ff'), line('i@'), line('i3')];
    fs.writeFileSync(ndjson, withBytes(lines.join('\n')));
    const csv = path.join(dir, 'events.csv');
    const row = (id: string) => `${id},${orgId},m,1,1,1,2025-11-15T12:00:00Z`;
    const header = 'id,organization_id,model,neurons,synapses,cost,timestamp';
    fs.writeFileSync(csv, withBytes(`${[header, row('v1'), row('v#'), row('v2')].join('\r\n')}\r\n`));
    const bad: string[] = [];
    const onBadLine = (lineNumber: number, reason: string) => bad.push(`${lineNumber}: ${reason}`);
    const fromNdjson = await importFile(server().ctx, ndjson, { format: 'ndjson', onBadLine });
    const fromCsv = await importFile(server().ctx, csv, { format: 'csv', onBadLine });
    assert.deepEqual(bad, [
      `2: id ${SURROGATE}`,
      '3: id must not contain NUL characters',
      '5: event must be valid UTF-8',
      '3: event must be valid UTF-8',
    ]);
    assert.deepEqual(fromNdjson, { accepted: 3, duplicates: 0, badLines: 3, unpriced: new Map() });
    assert.deepEqual(fromCsv, { accepted: 2, duplicates: 0, badLines: 1, unpriced: new Map() });
    const imported = (await storedIds(server(), orgId)).filter((id) => /^[iv]/.test(id));
    assert.deepEqual(imported, ['i1', 'i3', 'i\u00ff', 'v1', 'v2']);
  });

  it('maps the rows a PostgreSQL batch inserted back by position, whatever their ids', async () => {
    if (server().dialect !== 'postgres') return;
    const reject = () => assert.fail('valid events');
    const events = ['p\u00ff', 'p2', 'p3'].map((id, i) => toUsageEvent(event(id), i, Date.now(), reject));
    await writeBatchInOneStatement(server().storage.db, [events[1]!], [], Date.now());
    const inserted = await writeBatchInOneStatement(server().storage.db, events, [], Date.now());
    assert.deepEqual(inserted, [events[0], events[2]]);
    assert.deepEqual((await checkRollups(server().storage.db, orgId)).differences, []);
  });
});
