/**
 * What an event carries beyond its totals: the cache parts of its neurons, the reasoning part of
 * its synapses, its end user and its tags. Stored with the raw event, summed in every rollup,
 * checked as one batch (a 400 naming the event and the field, nothing written), and migrated
 * into databases that hold events already.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { sql } from 'kysely';
import { checkRollups } from '../src/modules/rollups/check.ts';
import { rebuildMonth } from '../src/modules/rollups/rebuild.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { openStorage } from '../src/storage/storage.ts';
import { toBigInt } from '../src/storage/values.ts';
import { expandsTags, ROLLUPS } from '../src/usage/rollups.ts';
import {
  assertEnvelope,
  createTestDatabase,
  DIALECTS,
  type EventInput,
  forEachDialect,
  makeApiKey,
  makeOrg,
  migrateTestDatabaseTo,
} from './harness.ts';
import { tableContents } from './table-contents.ts';

const PARTS = ['cached_neurons', 'cache_write_neurons', 'reasoning_synapses'] as const;

forEachDialect('event parts, end users and tags', (server) => {
  let orgId: string;
  let key: Awaited<ReturnType<typeof makeApiKey>>;
  const event = (id: string, extra: Partial<EventInput> = {}): EventInput => ({
    id,
    organization_id: orgId,
    api_key_id: key.id,
    model: 'gpt-4o',
    neurons: 100,
    synapses: 10,
    cost: '0.125',
    timestamp: '2025-11-15T12:00:00Z',
    ...extra,
  });
  const post = (events: EventInput[]) =>
    server().request('POST', '/v1/usage/events', { key: key.secret, body: { events } });

  async function storedEvent(id: string) {
    return server()
      .storage.db.selectFrom('usage_events')
      .select(['neurons', 'synapses', ...PARTS, 'end_user', 'tags'])
      .where('organization_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  }

  /** Each rollup's parts and totals summed over the organization. */
  async function rollupSums() {
    const sums: Record<string, string> = {};
    for (const rollup of ROLLUPS) {
      const { rows } = await sql<Record<string, unknown>>`
        select sum(requests) as requests, sum(neurons) as neurons, sum(synapses) as synapses,
          sum(cached_neurons) as cached, sum(cache_write_neurons) as cache_write,
          sum(reasoning_synapses) as reasoning
        from ${sql.table(rollup.table)} where organization_id = ${orgId}`.execute(server().storage.db);
      const row = rows[0]!;
      sums[rollup.table] = ['requests', 'neurons', 'synapses', 'cached', 'cache_write', 'reasoning']
        .map((c) => `${c}=${toBigInt(row[c])}`)
        .join(' ');
    }
    return sums;
  }

  before(async () => {
    orgId = (await makeOrg(server())).id;
    key = await makeApiKey(server(), orgId);
  });

  it('stores the parts, the end user and the tags (canonical JSON) with the raw event, and defaults without them', async () => {
    const response = await post([
      event('p1', {
        cached_neurons: 30,
        cache_write_neurons: 20,
        reasoning_synapses: 4,
        end_user: 'customer-ü 42',
        tags: { team: 'search', feature: 'chat', 'a.b_c-d': 'x' },
      }),
      event('p2'),
    ]);
    assert.equal(response.status, 200, response.text);
    const full = await storedEvent('p1');
    assert.deepEqual(
      PARTS.map((p) => toBigInt(full[p])),
      [30n, 20n, 4n],
    );
    assert.equal(full.end_user, 'customer-ü 42');
    assert.equal(full.tags, '{"a.b_c-d":"x","feature":"chat","team":"search"}');
    const bare = await storedEvent('p2');
    assert.deepEqual(
      PARTS.map((p) => toBigInt(bare[p])),
      [0n, 0n, 0n],
    );
    assert.equal(bare.end_user, null);
    assert.equal(bare.tags, null);
  });

  it('sums the parts in every rollup, counts a retried id once, and verify and rebuild agree', async () => {
    const batch = [
      event('s1', { cached_neurons: 7, cache_write_neurons: 3, reasoning_synapses: 2 }),
      event('s2', { cached_neurons: 1, reasoning_synapses: 10, timestamp: '2025-11-16T01:00:00Z' }),
      event('s3', { cache_write_neurons: 5, api_key_id: null }),
    ];
    const before = await rollupSums();
    assert.equal((await post(batch)).status, 200);
    const retry = await post(batch);
    assert.deepEqual(retry.body, { success: true, accepted: 0, duplicates: 3, unpriced: [] });
    const after = await rollupSums();
    // p1 and p2 came before: 2 requests, 200 neurons, 20 synapses, 30 / 20 / 4.
    for (const rollup of ROLLUPS) {
      // A rollup that expands tags counts p1 once per each of its three tags, and s1-s3 not at all.
      const expected = expandsTags(rollup)
        ? 'requests=3 neurons=300 synapses=30 cached=90 cache_write=60 reasoning=12'
        : rollup.counts === 'all'
          ? 'requests=5 neurons=500 synapses=50 cached=38 cache_write=28 reasoning=16'
          : 'requests=4 neurons=400 synapses=40 cached=38 cache_write=23 reasoning=16';
      assert.equal(after[rollup.table], expected, `${rollup.table} (before: ${before[rollup.table]})`);
    }
    const { db } = server().storage;
    assert.deepEqual((await checkRollups(db, orgId)).differences, []);
    await db.transaction().execute((tx) => rebuildMonth(tx, { year: 2025, month: 11 }, [orgId]));
    assert.deepEqual(await rollupSums(), after);
  });

  it('verify finds a rollup row whose part disagrees with the raw events', async () => {
    const { db } = server().storage;
    await db
      .updateTable('rollup_org_month')
      .set({ reasoning_synapses: 1n })
      .where('organization_id', '=', orgId)
      .where('month', '=', 202511)
      .execute();
    const { differences } = await checkRollups(db, orgId);
    assert.deepEqual(
      differences.map((d) => [d.table, d.stored?.reasoningSynapses, d.expected?.reasoningSynapses]),
      [['rollup_org_month', 1n, 16n]],
    );
    await db.transaction().execute((tx) => rebuildMonth(tx, { year: 2025, month: 11 }, [orgId]));
    assert.deepEqual((await checkRollups(db, orgId)).differences, []);
  });

  it('accepts the boundaries: 10 tags, 64-character keys, 256-character values and end users, parts equal to their totals', async () => {
    const tags = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v'.repeat(256)]));
    tags.k0 = 'x';
    const longKey = `a${'b'.repeat(63)}`;
    const response = await post([
      event('b1', { cached_neurons: 60, cache_write_neurons: 40, reasoning_synapses: 10, tags }),
      event('b2', { cached_neurons: 100, end_user: 'u'.repeat(256), tags: { [longKey]: '😀'.repeat(256) } }),
      event('b3', { cache_write_neurons: 100, neurons: 100, synapses: 0, reasoning_synapses: 0 }),
      event('b4', { neurons: 1_000_000_000_000, cached_neurons: 1_000_000_000_000, cost: '0' }),
    ]);
    assert.equal(response.status, 200, response.text);
    assert.equal(response.body.accepted, 4);
    assert.equal(Object.keys(JSON.parse((await storedEvent('b1')).tags!)).length, 10);
    assert.equal((await storedEvent('b2')).end_user, 'u'.repeat(256));
  });

  const violations: Array<[string, Partial<EventInput> | Record<string, unknown>, string, RegExp?]> = [
    ['cached above neurons', { cached_neurons: 101 }, 'cached_neurons', /must not exceed neurons/],
    ['cache writes above neurons', { cache_write_neurons: 101 }, 'cache_write_neurons', /must not exceed neurons/],
    [
      'cache parts together above neurons',
      { cached_neurons: 60, cache_write_neurons: 41 },
      'cache_write_neurons',
      /together with cached_neurons/,
    ],
    ['reasoning above synapses', { reasoning_synapses: 11 }, 'reasoning_synapses', /must not exceed synapses/],
    ['a negative part', { cached_neurons: -1 }, 'cached_neurons', />= 0/],
    ['a fractional part', { reasoning_synapses: 1.5 }, 'reasoning_synapses', /integer/],
    ['a part as text', { cache_write_neurons: '5' }, 'cache_write_neurons', /integer/],
    [
      'a part above the unit bound',
      { neurons: 1_000_000_000_000, cached_neurons: 1_000_000_000_001 },
      'cached_neurons',
    ],
    ['an empty end user', { end_user: '' }, 'end_user', /fewer than 1/],
    ['an end user of 257 characters', { end_user: 'u'.repeat(257) }, 'end_user', /more than 256/],
    ['an end user that is a number', { end_user: 42 }, 'end_user', /string/],
    ['an end user with NUL', { end_user: 'a\u0000b' }, 'end_user', /NUL/],
    ['an end user with a lone surrogate', { end_user: 'a\ud800' }, 'end_user', /well-formed/],
    [
      'eleven tags',
      { tags: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])) },
      'tags',
      /more than 10/,
    ],
    ['a tag key with a capital', { tags: { Feature: 'chat' } }, 'tags', /^has a key "Feature" that must match pattern/],
    ['a tag key starting with a digit', { tags: { '1feature': 'chat' } }, 'tags', /pattern/],
    ['a tag key of 65 characters', { tags: { [`a${'b'.repeat(64)}`]: 'chat' } }, 'tags', /pattern/],
    ['an empty tag value', { tags: { feature: '' } }, 'tags.feature', /fewer than 1/],
    ['a tag value of 257 characters', { tags: { feature: 'v'.repeat(257) } }, 'tags.feature', /more than 256/],
    ['a tag value that is a number', { tags: { feature: 1 } }, 'tags.feature', /string/],
    ['a tag value with NUL', { tags: { feature: 'a\u0000' } }, 'tags.feature', /NUL/],
    ['tags as a list', { tags: ['chat'] }, 'tags', /object/],
    ['tags as text', { tags: 'feature=chat' }, 'tags', /object/],
  ];
  for (const [what, extra, field, reason] of violations) {
    it(`rejects ${what}: a 400 naming the event and ${field}, and writes nothing`, async () => {
      const before = await tableContents(server());
      const response = await post([event('ok-1'), event('bad', extra as Partial<EventInput>), event('ok-2')]);
      assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
      const errors = (response.body.error.details?.errors ?? []) as Array<{
        index?: number;
        field: string;
        reason: string;
      }>;
      const named = errors.find((e) => e.field === `events[1].${field}`);
      assert.ok(named, `events[1].${field} in ${response.text}`);
      assert.ok(
        errors.every((e) => e.field.startsWith('events[1].')),
        response.text,
      );
      if (reason) assert.match(named.reason, reason);
      assert.deepEqual(await tableContents(server()), before);
    });
  }
});

/** The rollups that existed before the parts' migration; the breakdown's came after it, with the parts. */
const EARLIER_ROLLUPS = ROLLUPS.filter((rollup) =>
  [
    'rollup_key_day',
    'rollup_key_model_month',
    'rollup_org_model_month',
    'rollup_org_hour',
    'rollup_org_day',
    'rollup_org_month',
  ].includes(rollup.table),
);

for (const dialect of DIALECTS) {
  it(`the migration adds the parts to events and rollups that exist, as zeros [${dialect}]`, async () => {
    const database = await createTestDatabase(dialect);
    const storage = await openStorage(database.config);
    try {
      // Before the raw events were partitioned, so that the event needs no partition of its month.
      await migrateTestDatabaseTo(storage, '2026_12_03_0201_raw_event_retention');
      // Written as the schema before stood: the columns listed one by one.
      await sql`insert into usage_events (organization_id, id, api_key_id, model, neurons, synapses, cost_nano,
        cost_source, occurred_at, received_at)
        values ('org_m', 'e1', null, 'm', 10, 3, 5, 'reported', ${Date.UTC(2025, 10, 3)}, ${Date.UTC(2025, 10, 3)})`.execute(
        storage.db,
      );
      for (const rollup of EARLIER_ROLLUPS) {
        const keys = [rollup.grain.column, ...rollup.dimensions.map((d) => d.column)];
        const values = [rollup.grain.keyOf(Date.UTC(2025, 10, 3)), ...rollup.dimensions.map(() => 'm')];
        await sql`insert into ${sql.table(rollup.table)} (organization_id, ${sql.join(keys.map((k) => sql.ref(k)))},
          requests, neurons, synapses, cost_nano) values ('org_m', ${sql.join(values)}, 1, 10, 3, 5)`.execute(
          storage.db,
        );
      }
      await migrateToLatest(storage);
      const event = await storage.db.selectFrom('usage_events').selectAll().executeTakeFirstOrThrow();
      assert.deepEqual([...PARTS.map((p) => toBigInt(event[p])), event.end_user, event.tags], [0n, 0n, 0n, null, null]);
      for (const rollup of EARLIER_ROLLUPS) {
        const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(rollup.table)}`.execute(
          storage.db,
        );
        assert.deepEqual(
          rows.map((row) => [toBigInt(row.neurons), ...PARTS.map((p) => toBigInt(row[p]))]),
          [[10n, 0n, 0n, 0n]],
          rollup.table,
        );
      }
    } finally {
      await storage.close();
      await database.drop();
    }
  });
}
