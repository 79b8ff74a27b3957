/**
 * Ingestion from NATS JetStream, in process, against the real NATS on loopback: messages are
 * written through the ingestion path of POST /v1/usage/events, batched, acknowledged after the
 * commit; bad messages go to the dead letters with their reason and hold nothing up; an event
 * id published twice counts once; /metrics shows the backlog, redeliveries and dead letters.
 * Each suite has a stream and subjects of its own, deleted afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DIALECTS, makeApiKey, makeOrg, startTestServer, type TestServer } from './harness.ts';
import { eventually, type Producer, producer, queueConfig } from './queue.ts';

for (const dialect of DIALECTS) {
  describe(`queue ingestion [${dialect}]`, () => {
    const config = queueConfig();
    let server: TestServer;
    let nats: Producer;
    let orgId: string;

    before(async () => {
      server = await startTestServer(dialect, { ingestNats: config });
      nats = await producer(config);
      orgId = (await makeOrg(server)).id;
    });
    after(async () => {
      await server?.close();
      await nats?.close();
    });

    const event = (id: string, extra: Record<string, unknown> = {}) => ({
      id,
      organization_id: orgId,
      model: 'gpt-4o',
      neurons: 10,
      synapses: 4,
      cost: '0.25',
      timestamp: '2026-11-20T10:00:00Z',
      ...extra,
    });

    const stored = async (ids: string[]) => {
      const rows = await server.storage.db
        .selectFrom('usage_events')
        .select(['id', 'neurons', 'occurred_at'])
        .where('organization_id', '=', orgId)
        .where('id', 'in', ids)
        .execute();
      return rows;
    };
    const storedCount = async (prefix: string) => {
      const row = await server.storage.db
        .selectFrom('usage_events')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('organization_id', '=', orgId)
        .where('id', 'like', `${prefix}%`)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    };
    const totals = async () => {
      const response = await server.request('GET', `/v1/analytics/usage/summary/${orgId}`, { key: server.adminKey });
      assert.equal(response.status, 200, response.text);
      return { requests: response.body.totalRequests, neurons: response.body.totalNeurons };
    };
    const settled = () => eventually(async () => (await nats.backlog()) === 0, 'the backlog to drain');

    it('stores a single event and a batch published on the organization subject, as the route would', async () => {
      await nats.publish(orgId, event('one'));
      await nats.publish(orgId, { events: [event('batch-1'), event('batch-2', { neurons: 7 })] });
      await eventually(async () => (await stored(['one', 'batch-1', 'batch-2'])).length === 3, 'three events');
      await settled();
      const summary = await totals();
      assert.deepEqual(summary, { requests: 3, neurons: 27 });
      assert.equal(server.ctx.queue!.counts.acked, 2);
    });

    it('stamps an event without a timestamp with the time it was published', async () => {
      const before = Date.now();
      await nats.publish(orgId, { ...event('no-time'), timestamp: undefined });
      await eventually(async () => (await stored(['no-time'])).length === 1, 'the event');
      const [row] = await stored(['no-time']);
      const occurred = Number(row!.occurred_at);
      assert.ok(occurred >= before - 1000 && occurred <= Date.now(), `occurred_at ${occurred}`);
    });

    it('writes many small messages in few batches of at most 1000 events', async () => {
      const queue = server.ctx.queue!;
      const batchesBefore = queue.counts.batches;
      const publishing: Promise<void>[] = [];
      for (let i = 0; i < 1500; i++) publishing.push(nats.publish(orgId, event(`many-${i}`)));
      // One message of 1000 events: a batch of its own, as a full POST would be.
      publishing.push(nats.publish(orgId, { events: Array.from({ length: 1000 }, (_, i) => event(`full-${i}`)) }));
      await Promise.all(publishing);
      await eventually(async () => (await storedCount('many-')) === 1500, '1500 events', 30_000);
      await eventually(async () => (await storedCount('full-')) === 1000, '1000 events', 30_000);
      await settled();
      const batches = queue.counts.batches - batchesBefore;
      // 2500 events: at least 3 batches of at most 1000, and far fewer than the 1501 messages.
      assert.ok(batches >= 3 && batches <= 100, `${batches} batches`);
    });

    it('sends bad messages to the dead letters with the reason, and goes on with the others', async () => {
      const other = (await makeOrg(server)).id;
      const key = await makeApiKey(server, other);
      await nats.publish(orgId, 'not json {');
      await nats.publish(orgId, `{"events":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
      await nats.publish(orgId, event('dead-neg', { neurons: -1 }));
      await nats.publish(orgId, { ...event('dead-other'), organization_id: other });
      await nats.publish(orgId, { events: [event('dead-key-1'), event('dead-key-2', { api_key_id: key.id })] });
      await nats.publish('org_nosuchorganization1', {
        ...event('dead-org'),
        organization_id: 'org_nosuchorganization1',
      });
      await nats.publish(orgId, event('after-dead'));
      await eventually(async () => (await stored(['after-dead'])).length === 1, 'the good message after the bad ones');
      await settled();
      assert.deepEqual(await stored(['dead-neg', 'dead-other', 'dead-key-1', 'dead-key-2', 'dead-org']), []);

      const letters = await nats.deadLetters();
      const reasons = letters.map((l) => `${l.subject} | ${l.reason}`).sort();
      const dead = `${config.subjectPrefix}.dead`;
      assert.equal(letters.length, 6, reasons.join('\n'));
      const find = (pattern: RegExp) => {
        const letter = letters.find((l) => pattern.test(l.reason));
        assert.ok(letter, `a dead letter matching ${pattern} in\n${reasons.join('\n')}`);
        return letter;
      };
      assert.equal(find(/^body is not UTF-8 JSON/).subject, `${dead}.${orgId}`);
      find(/^body must not nest arrays and objects deeper than 32 levels$/);
      assert.equal(find(/neurons/).body, JSON.stringify(event('dead-neg', { neurons: -1 })));
      find(new RegExp(`events\\[0\\]\\.organization_id is not ${orgId}, the subject's organization`));
      // Refused by ingestion itself (the key belongs to another organization): the whole message, as a 400 would.
      assert.match(find(/api_key_id/).reason, /^events\[1\]\.api_key_id is not an API key of the organization$/);
      const unknown = find(/organization_id names no known organization/);
      assert.equal(unknown.subject, `${dead}.org_nosuchorganization1`);
      assert.equal(unknown.originalSubject, `${config.subjectPrefix}.usage.org_nosuchorganization1`);
      assert.ok(server.ctx.queue!.counts.deadLetters >= 6);
    });

    it('stores an event id published twice once', async () => {
      const before = await totals();
      await nats.publish(orgId, event('twice', { neurons: 3 }));
      await nats.publish(orgId, event('twice', { neurons: 3 }));
      await nats.publish(orgId, { events: [event('twice', { neurons: 3 }), event('twice-2')] });
      await eventually(async () => (await stored(['twice', 'twice-2'])).length === 2, 'both ids');
      await settled();
      const rows = await stored(['twice']);
      assert.equal(rows.length, 1);
      assert.deepEqual(await totals(), { requests: before.requests + 2, neurons: before.neurons + 3 + 10 });
      assert.ok(server.ctx.queue!.counts.duplicates >= 2);
    });

    it('reports the backlog, redeliveries and dead letters in /metrics', async () => {
      await settled();
      const response = await server.request('GET', '/metrics');
      assert.equal(response.status, 200);
      const sample = (line: string) => {
        const match = response.text.split('\n').find((l) => l.startsWith(`${line} `));
        assert.ok(match, `${line} in /metrics`);
        return Number(match.split(' ')[1]);
      };
      assert.equal(sample('freddy_queue_lag_messages'), 0);
      assert.equal(sample('freddy_queue_ack_pending_messages'), 0);
      assert.equal(sample('freddy_queue_redelivered_messages'), 0);
      assert.equal(sample('freddy_queue_dead_letters_stored'), 6);
      const counts = server.ctx.queue!.counts;
      assert.equal(sample('freddy_queue_messages_total{outcome="acked"}'), counts.acked);
      assert.equal(sample('freddy_queue_messages_total{outcome="dead_letter"}'), 6);
      assert.equal(sample('freddy_queue_messages_total{outcome="retried"}'), 0);
      assert.equal(sample('freddy_queue_messages_total{outcome="redelivered"}'), 0);
      assert.equal(sample('freddy_queue_events_total{outcome="accepted"}'), counts.accepted);
      assert.equal(sample('freddy_queue_events_total{outcome="duplicate"}'), counts.duplicates);
      // 3 + 1 + 2500 + 1 (after the dead letters) + 2 ("twice", "twice-2")
      assert.equal(counts.accepted, 2507);
    });
  });
}
