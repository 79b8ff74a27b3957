/**
 * Reused analytics reads: a repeated read is answered without querying, and every write,
 * through this process or straight into the database by another one, shows in the very next
 * read. Each such test first shows that the read before the write came from memory (the
 * memo's own counts), so that the read after it could have been stale.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { ingestUsage } from '../src/modules/ingestion/ingestion.service.ts';
import { openStorage, type Storage } from '../src/storage/storage.ts';
import { contextOf, forEachDialect, ingest, makeApiKey, makeOrg } from './harness.ts';

const YEAR = new Date().getUTCFullYear();
const MONTH = new Date().getUTCMonth() + 1;

forEachDialect('reused reads', (server) => {
  let orgId: string;
  let key: Awaited<ReturnType<typeof makeApiKey>>;
  /** A second connection to the same database: another replica, or the CLI. */
  let other: Storage;

  const event = (id: string, cost: string, apiKeyId: string | null = key.id) => ({
    id,
    organization_id: orgId,
    api_key_id: apiKeyId,
    model: 'gpt-4o',
    neurons: 10,
    synapses: 20,
    cost,
  });
  const summary = async () => {
    const response = await server().request('GET', `/v1/analytics/usage/summary/${orgId}`, { key: key.secret });
    assert.equal(response.status, 200, response.text);
    return response.body;
  };
  const keyUsage = async () => {
    const url = `/v1/analytics/api-keys/usage/${orgId}/${key.id}?year=${YEAR}&month=${MONTH}`;
    const response = await server().request('GET', url, { key: key.secret });
    assert.equal(response.status, 200, response.text);
    return response.body;
  };
  const keysSummary = async () => {
    const url = `/v1/analytics/api-keys/summary/${orgId}?year=${YEAR}&month=${MONTH}`;
    const response = await server().request('GET', url, { key: key.secret });
    assert.equal(response.status, 200, response.text);
    return response.body;
  };

  /**
   * Reads until one read is answered from memory, and returns that answer. On PostgreSQL any
   * write committed anywhere in the cluster (other test files, other projects) moves the
   * marker, and after a few misses in a row a read skips the marker for a while (see
   * read-memo.ts), so on a busy cluster a hit can take many reads: tried for up to 15 s.
   */
  const fromMemory = async <T>(read: () => Promise<T>): Promise<T> => {
    const deadline = Date.now() + 15_000;
    let attempts = 0;
    while (Date.now() < deadline) {
      attempts++;
      const before = { ...server().ctx.reads.counts };
      const answer = await read();
      const { hits, misses } = server().ctx.reads.counts;
      if (hits === before.hits + 1 && misses === before.misses) return answer;
    }
    assert.fail(`no read was answered from memory in ${attempts} reads`);
  };

  before(async () => {
    orgId = (await makeOrg(server())).id;
    key = await makeApiKey(server(), orgId, { name: 'first name' });
    await ingest(server(), [event('r-1', '1.5')]);
    other = await openStorage(server().database.config);
  });
  after(async () => {
    await other.close();
  });

  it('answers a repeated read without querying, with the same body', async () => {
    const first = await summary();
    assert.deepEqual(await fromMemory(summary), first);
  });

  it('shows an event ingested through this process in the next read', async () => {
    assert.equal((await fromMemory(summary)).totalRequests, 1);
    await ingest(server(), [event('r-2', '2.25')]);
    const after = await summary();
    assert.equal(after.totalRequests, 2);
    assert.equal(after.totalCost, 3.75);
    assert.equal((await fromMemory(keysSummary)).totalApiKeyRequests, 2);
    await ingest(server(), [event('r-2b', '1')]);
    assert.equal((await keysSummary()).totalApiKeyRequests, 3);
  });

  it('shows an event another process wrote straight into the database in the next read', async () => {
    const before = await fromMemory(summary);
    await ingestUsage(contextOf(other), { kind: 'admin', keyId: 'other-process' }, [event('r-3', '0.25')], Date.now());
    const after = await summary();
    assert.equal(after.totalRequests, before.totalRequests + 1);
    assert.equal(after.totalCost, before.totalCost + 0.25);
    const usage = await fromMemory(keyUsage);
    await ingestUsage(contextOf(other), { kind: 'admin', keyId: 'other-process' }, [event('r-3b', '0.5')], Date.now());
    assert.equal((await keyUsage()).usage.totalRequests, usage.usage.totalRequests + 1);
  });

  it("shows a key's new name and limit in the next read of its usage", async () => {
    assert.equal((await fromMemory(keyUsage)).apiKeyName, 'first name');
    const patched = await server().request('PATCH', `/v1/organizations/${orgId}/api-keys/${key.id}`, {
      key: server().adminKey,
      body: { key_name: 'second name', usage_limit_chf: 100 },
    });
    assert.equal(patched.status, 200, patched.text);
    const usage = await keyUsage();
    assert.equal(usage.apiKeyName, 'second name');
    assert.equal(usage.limit.monthlyLimit, 100);
  });

  it('shows a write in the next read of every route whose answer is reused', async () => {
    const routes = [
      `/v1/analytics/usage/daily/${orgId}?year=${YEAR}&month=${MONTH}`,
      `/v1/analytics/usage/monthly/${orgId}`,
      `/v1/analytics/usage/yearly/${orgId}`,
      `/v1/analytics/${orgId}/api-keys/top/${MONTH}/${YEAR}`,
      `/v1/analytics/usage/limits/${orgId}?year=${YEAR}&month=${MONTH}`,
    ];
    const read = async (url: string) => {
      const response = await server().request('GET', url, { key: key.secret });
      assert.equal(response.status, 200, `${url}: ${response.text}`);
      return response.body;
    };
    for (const [i, url] of routes.entries()) {
      const before = await fromMemory(() => read(url));
      await ingestUsage(
        contextOf(other),
        { kind: 'admin', keyId: 'other-process' },
        [event(`r-4-${i}`, '4.5')],
        Date.now(),
      );
      assert.notDeepEqual(await read(url), before, url);
    }
  });

  it('does not keep a 404: an organization created afterwards is found', async () => {
    const missing = `org_later${server().dialect}`;
    const url = `/v1/analytics/usage/summary/${missing}`;
    assert.equal((await server().request('GET', url, { key: server().adminKey })).status, 404);
    await makeOrg(server(), { id: missing });
    assert.equal((await server().request('GET', url, { key: server().adminKey })).status, 200);
  });

  it('reports hits and misses in /metrics', async () => {
    await summary();
    await summary();
    const text = (await server().request('GET', '/metrics')).text;
    const { hits, misses } = server().ctx.reads.counts;
    assert.match(text, new RegExp(`freddy_read_memo_lookups_total\\{result="hit"\\} ${hits}\\n`));
    assert.match(text, new RegExp(`freddy_read_memo_lookups_total\\{result="miss"\\} ${misses}\\n`));
    assert.ok(hits > 0 && misses > 0);
  });
});
