/**
 * The breakdown against hand-computed answers: each window (`all` across hours, days and
 * months), each group_by, every filter, `limit` with the "other" row, CSV, and every 400. The
 * clock is pinned to 2025-11-20T12:00Z, so the default range is November 2025. Also: `verify`
 * covers the new rollups, and a rebuild restores them.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { checkRollups } from '../src/modules/rollups/check.ts';
import { rebuildMonth } from '../src/modules/rollups/rebuild.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { openStorage } from '../src/storage/storage.ts';
import {
  assertEnvelope,
  createTestDatabase,
  DIALECTS,
  type EventInput,
  forEachDialect,
  ingest,
  makeApiKey,
  makeOrg,
  migrateTestDatabaseTo,
} from './harness.ts';

const NOW = Date.parse('2025-11-20T12:00:00Z');

type Sent = EventInput & {
  end_user?: string;
  tags?: Record<string, string>;
  cached_neurons?: number;
  cache_write_neurons?: number;
  reasoning_synapses?: number;
};

forEachDialect(
  'usage breakdown',
  (server) => {
    let org: string;
    let k1: string;
    let k2: string;
    const get = (query: string, headers?: Record<string, string>) =>
      server().request('GET', `/v1/analytics/usage/breakdown/${org}${query}`, {
        key: server().adminKey,
        ...(headers ? { headers } : {}),
      });
    /** The rows without times, as `[start, group, requests, cost]` (and `other` when set). */
    const brief = (body: any) =>
      body.rows.map((r: any) => [r.start, r.group, r.requests, r.cost, ...(r.other ? ['other'] : [])]);

    before(async () => {
      org = (await makeOrg(server())).id;
      k1 = (await makeApiKey(server(), org, { name: 'one' })).id;
      k2 = (await makeApiKey(server(), org, { name: 'two' })).id;
      const events: Sent[] = [
        {
          id: 'e1',
          organization_id: org,
          api_key_id: k1,
          model: 'gpt-4o',
          neurons: 100,
          cached_neurons: 40,
          cache_write_neurons: 10,
          synapses: 50,
          reasoning_synapses: 20,
          cost: '1.5',
          end_user: 'alice',
          tags: { feature: 'chat', team: 'search' },
          timestamp: '2025-11-03T10:15:00Z',
        },
        {
          id: 'e2',
          organization_id: org,
          api_key_id: k2,
          model: 'gpt-4o',
          neurons: 200,
          synapses: 100,
          cost: '2',
          end_user: 'bob',
          tags: { feature: 'chat' },
          timestamp: '2025-11-03T10:45:00Z',
        },
        {
          id: 'e3',
          organization_id: org,
          api_key_id: null,
          model: 'claude',
          neurons: 10,
          synapses: 5,
          cost: '0.25',
          timestamp: '2025-11-03T11:00:00Z',
        },
        {
          id: 'e4',
          organization_id: org,
          api_key_id: k1,
          model: 'claude',
          neurons: 300,
          cached_neurons: 100,
          synapses: 30,
          cost: '3',
          end_user: 'alice',
          tags: { feature: 'search' },
          timestamp: '2025-11-04T00:00:00Z',
        },
        {
          id: 'e5',
          organization_id: org,
          api_key_id: k1,
          model: 'gpt-4o',
          neurons: 1,
          synapses: 1,
          cost: '0.1',
          end_user: 'alice',
          tags: { team: 'search' },
          timestamp: '2025-10-31T23:59:59.999Z',
        },
        {
          id: 'e6',
          organization_id: org,
          api_key_id: k2,
          model: 'mini',
          neurons: 5,
          synapses: 5,
          cost: '0.000001',
          end_user: 'carol',
          timestamp: '2025-09-15T08:00:00Z',
        },
      ];
      await ingest(server(), events as EventInput[]);
    });

    describe('windows', () => {
      it('answers the current month per day by default, with every counter', async () => {
        const { status, body, text } = await get('');
        assert.equal(status, 200, text);
        assert.equal(body.organization_id, org);
        assert.equal(body.from, '2025-11-01T00:00:00Z');
        assert.equal(body.to, '2025-12-01T00:00:00Z');
        assert.equal(body.window, 'day');
        assert.deepEqual(body.group_by, []);
        assert.deepEqual(body.rows, [
          {
            start: '2025-11-03T00:00:00Z',
            end: '2025-11-04T00:00:00Z',
            group: {},
            other: false,
            requests: 3,
            neurons: 310,
            cached_neurons: 40,
            cache_write_neurons: 10,
            synapses: 155,
            reasoning_synapses: 20,
            cost: 3.75,
          },
          {
            start: '2025-11-04T00:00:00Z',
            end: '2025-11-05T00:00:00Z',
            group: {},
            other: false,
            requests: 1,
            neurons: 300,
            cached_neurons: 100,
            cache_write_neurons: 0,
            synapses: 30,
            reasoning_synapses: 0,
            cost: 3,
          },
        ]);
        assert.deepEqual(body.totals, {
          requests: 4,
          neurons: 610,
          cached_neurons: 140,
          cache_write_neurons: 10,
          synapses: 185,
          reasoning_synapses: 20,
          cost: 6.75,
        });
        assert.equal(body.generated_at, '2025-11-20T12:00:00Z');
        assert.match(text, /"cost":3\.0[,}]/, 'money is written as a float');
      });

      it('answers hours, each ending an hour later', async () => {
        const { status, body, text } = await get('?window=hour&from=2025-11-03&to=2025-11-04&group_by=model');
        assert.equal(status, 200, text);
        assert.deepEqual(brief(body), [
          ['2025-11-03T10:00:00Z', { model: 'gpt-4o' }, 2, 3.5],
          ['2025-11-03T11:00:00Z', { model: 'claude' }, 1, 0.25],
        ]);
        assert.equal(body.rows[0].end, '2025-11-03T11:00:00Z');
      });

      it('answers calendar months, usage without a key as a null api_key', async () => {
        const { status, body, text } = await get('?window=month&from=2025-09-01&to=2025-12-01&group_by=api_key');
        assert.equal(status, 200, text);
        assert.deepEqual(brief(body), [
          ['2025-09-01T00:00:00Z', { api_key: k2 }, 1, 0.000001],
          ['2025-10-01T00:00:00Z', { api_key: k1 }, 1, 0.1],
          ['2025-11-01T00:00:00Z', { api_key: k1 }, 2, 4.5],
          ['2025-11-01T00:00:00Z', { api_key: k2 }, 1, 2],
          ['2025-11-01T00:00:00Z', { api_key: null }, 1, 0.25],
        ]);
        assert.equal(body.rows[0].end, '2025-10-01T00:00:00Z');
        assert.equal(body.totals.cost, 6.850001);
      });

      it('answers a range of hours and days as one window with all', async () => {
        const { status, body, text } = await get(
          '?window=all&from=2025-10-31T23:00:00Z&to=2025-11-03T11:00:00Z&group_by=end_user',
        );
        assert.equal(status, 200, text);
        assert.deepEqual(brief(body), [
          ['2025-10-31T23:00:00Z', { end_user: 'bob' }, 1, 2],
          ['2025-10-31T23:00:00Z', { end_user: 'alice' }, 2, 1.6],
        ]);
        assert.equal(body.rows[0].end, '2025-11-03T11:00:00Z');
      });

      it('answers months and their edges as one window with all', async () => {
        const { status, body, text } = await get('?window=all&from=2025-09-15T08:00:00Z&to=2025-11-04T01:00:00Z');
        assert.equal(status, 200, text);
        assert.deepEqual(brief(body), [['2025-09-15T08:00:00Z', {}, 6, 6.850001]]);
        const later = await get('?window=all&from=2025-09-15T09:00:00Z&to=2025-11-04T00:00:00Z');
        assert.deepEqual(brief(later.body), [['2025-09-15T09:00:00Z', {}, 4, 3.85]]);
      });

      it('leaves out windows without usage, and answers no rows for a range without any', async () => {
        const { body } = await get('?window=month&from=2024-01-01&to=2025-01-01');
        assert.deepEqual(body.rows, []);
        assert.equal(body.totals.requests, 0);
        assert.equal(body.totals.cost, 0);
      });
    });

    describe('groups', () => {
      it('groups by a tag, the usage without it as a null value', async () => {
        const { status, body, text } = await get('?window=month&group_by=tag:feature');
        assert.equal(status, 200, text);
        assert.deepEqual(brief(body), [
          ['2025-11-01T00:00:00Z', { 'tag:feature': 'chat' }, 2, 3.5],
          ['2025-11-01T00:00:00Z', { 'tag:feature': 'search' }, 1, 3],
          ['2025-11-01T00:00:00Z', { 'tag:feature': null }, 1, 0.25],
        ]);
        assert.equal(body.totals.cost, 6.75);
      });

      it('groups by model and a tag', async () => {
        const { body } = await get('?window=month&group_by=model,tag:team');
        assert.deepEqual(brief(body), [
          ['2025-11-01T00:00:00Z', { model: 'claude', 'tag:team': null }, 2, 3.25],
          ['2025-11-01T00:00:00Z', { model: 'gpt-4o', 'tag:team': null }, 1, 2],
          ['2025-11-01T00:00:00Z', { model: 'gpt-4o', 'tag:team': 'search' }, 1, 1.5],
        ]);
      });

      it('groups by end user and model per day, in the order group_by names them', async () => {
        const { body } = await get('?group_by=end_user,model');
        assert.deepEqual(brief(body), [
          ['2025-11-03T00:00:00Z', { end_user: 'bob', model: 'gpt-4o' }, 1, 2],
          ['2025-11-03T00:00:00Z', { end_user: 'alice', model: 'gpt-4o' }, 1, 1.5],
          ['2025-11-03T00:00:00Z', { end_user: null, model: 'claude' }, 1, 0.25],
          ['2025-11-04T00:00:00Z', { end_user: 'alice', model: 'claude' }, 1, 3],
        ]);
      });

      it('keeps `limit` groups per window and sums the rest into one other row', async () => {
        const { body } = await get('?window=month&group_by=api_key&limit=1&from=2025-09-01&to=2025-12-01');
        assert.deepEqual(brief(body), [
          ['2025-09-01T00:00:00Z', { api_key: k2 }, 1, 0.000001],
          ['2025-10-01T00:00:00Z', { api_key: k1 }, 1, 0.1],
          ['2025-11-01T00:00:00Z', { api_key: k1 }, 2, 4.5],
          ['2025-11-01T00:00:00Z', { api_key: null }, 2, 2.25, 'other'],
        ]);
        assert.equal(body.totals.cost, 6.850001);
        assert.equal(body.rows[3].neurons, 210);
      });

      it('sums every group past the limit into the other row over the whole range', async () => {
        const { body } = await get('?group_by=model&limit=1&window=all&from=2025-09-01&to=2025-12-01');
        // gpt-4o (3.6) is kept; claude (3.25) and mini (0.000001) are the other row.
        assert.deepEqual(brief(body), [
          ['2025-09-01T00:00:00Z', { model: 'gpt-4o' }, 3, 3.6],
          ['2025-09-01T00:00:00Z', { model: null }, 3, 3.250001, 'other'],
        ]);
        assert.equal(body.totals.cost, 6.850001);
      });
    });

    describe('the top of a month', () => {
      let top: string;
      const getTop = (query: string) =>
        server().request('GET', `/v1/analytics/usage/breakdown/${top}${query}`, { key: server().adminKey });

      before(async () => {
        top = (await makeOrg(server())).id;
        const event = (
          id: string,
          cost: string,
          endUser: string | null,
          project: string | null,
          at = '2025-11-05',
        ) => ({
          id,
          organization_id: top,
          api_key_id: null,
          model: 'm',
          neurons: 1,
          synapses: 1,
          cost,
          timestamp: `${at}T12:00:00Z`,
          ...(endUser ? { end_user: endUser } : {}),
          ...(project ? { tags: { project } } : {}),
        });
        // Ties in cost at every limit: broken by requests, then by name, the usage without one last.
        await ingest(server(), [
          event('a', '5', 'u-a', 'p1'),
          event('b', '3', 'u-b', 'p2'),
          event('c1', '1.5', 'u-c', 'p3'),
          event('c2', '1.5', 'u-c', 'p3'),
          event('d', '3', 'u-d', null),
          event('e', '3', 'u-e', 'p2'),
          event('n', '3', null, null),
          event('f', '1', 'u-f', 'p4'),
          event('z', '10', 'u-z', 'p9', '2025-10-20'),
        ] as EventInput[]);
      });

      it('keeps the end users with the highest cost, ties as ordered for any other group', async () => {
        const { body } = await getTop('?window=month&group_by=end_user&limit=2&from=2025-10-01&to=2025-12-01');
        assert.deepEqual(brief(body), [
          ['2025-10-01T00:00:00Z', { end_user: 'u-z' }, 1, 10],
          ['2025-11-01T00:00:00Z', { end_user: null }, 5, 13, 'other'],
          ['2025-11-01T00:00:00Z', { end_user: 'u-a' }, 1, 5],
          ['2025-11-01T00:00:00Z', { end_user: 'u-c' }, 2, 3],
        ]);
        assert.equal(body.totals.cost, 31);
      });

      it('keeps the tag values with the highest cost, the usage without the tag among them', async () => {
        const { body } = await getTop('?window=month&group_by=tag:project&limit=2&from=2025-11-01&to=2025-12-01');
        assert.deepEqual(brief(body), [
          ['2025-11-01T00:00:00Z', { 'tag:project': null }, 4, 9, 'other'],
          ['2025-11-01T00:00:00Z', { 'tag:project': 'p2' }, 2, 6],
          ['2025-11-01T00:00:00Z', { 'tag:project': null }, 2, 6],
        ]);
      });

      it('answers each month as the whole range read as one window would, at every limit', async () => {
        for (const group of ['end_user', 'tag:project']) {
          for (let limit = 1; limit <= 9; limit++) {
            for (const [from, to] of [
              ['2025-10-01', '2025-11-01'],
              ['2025-11-01', '2025-12-01'],
            ]) {
              const query = `group_by=${group}&limit=${limit}&from=${from}&to=${to}`;
              const month = await getTop(`?window=month&${query}`);
              const all = await getTop(`?window=all&${query}`);
              assert.equal(month.status, 200, month.text);
              assert.deepEqual(month.body.rows, all.body.rows, query);
              assert.deepEqual(month.body.totals, all.body.totals, query);
            }
          }
        }
      });
    });

    describe('filters', () => {
      it('keeps usage without a key with api_key_id=none', async () => {
        const { body } = await get('?window=month&api_key_id=none');
        assert.deepEqual(brief(body), [['2025-11-01T00:00:00Z', {}, 1, 0.25]]);
      });

      it('keeps one key, one model, one end user', async () => {
        assert.deepEqual(brief((await get(`?window=month&api_key_id=${k2}&group_by=model`)).body), [
          ['2025-11-01T00:00:00Z', { model: 'gpt-4o' }, 1, 2],
        ]);
        assert.deepEqual(brief((await get('?window=month&model=claude&group_by=end_user')).body), [
          ['2025-11-01T00:00:00Z', { end_user: 'alice' }, 1, 3],
          ['2025-11-01T00:00:00Z', { end_user: null }, 1, 0.25],
        ]);
        assert.deepEqual(
          brief((await get('?window=month&from=2025-10-01&to=2025-12-01&end_user=alice&group_by=model')).body),
          [
            ['2025-10-01T00:00:00Z', { model: 'gpt-4o' }, 1, 0.1],
            ['2025-11-01T00:00:00Z', { model: 'claude' }, 1, 3],
            ['2025-11-01T00:00:00Z', { model: 'gpt-4o' }, 1, 1.5],
          ],
        );
      });

      it('keeps one tag value, grouped by model or by that tag', async () => {
        assert.deepEqual(brief((await get('?window=month&tag.feature=chat&group_by=model')).body), [
          ['2025-11-01T00:00:00Z', { model: 'gpt-4o' }, 2, 3.5],
        ]);
        assert.deepEqual(brief((await get('?window=month&tag.team=search&group_by=tag:team')).body), [
          ['2025-11-01T00:00:00Z', { 'tag:team': 'search' }, 1, 1.5],
        ]);
        assert.deepEqual(brief((await get('?window=all&from=2025-09-01&to=2025-12-01&tag.team=search')).body), [
          ['2025-09-01T00:00:00Z', {}, 2, 1.6],
        ]);
      });
    });

    describe('CSV', () => {
      const header =
        'start,end,model,tag:feature,other,requests,neurons,cached_neurons,cache_write_neurons,synapses,reasoning_synapses,cost';
      const lines = [
        header,
        '2025-11-01T00:00:00Z,2025-12-01T00:00:00Z,gpt-4o,chat,false,2,300,40,10,150,20,3.500000',
        '2025-11-01T00:00:00Z,2025-12-01T00:00:00Z,claude,search,false,1,300,100,0,30,0,3.000000',
        '2025-11-01T00:00:00Z,2025-12-01T00:00:00Z,,,true,1,10,0,0,5,0,0.250000',
      ];
      it('answers the rows as CSV with format=csv', async () => {
        const { status, headers, text } = await get('?window=month&group_by=model,tag:feature&limit=2&format=csv');
        assert.equal(status, 200, text);
        assert.match(headers.get('content-type') ?? '', /^text\/csv/);
        assert.deepEqual(text.trimEnd().split('\n'), lines);
      });

      it('answers CSV to Accept: text/csv, JSON otherwise', async () => {
        const csv = await get('?window=month&group_by=model,tag:feature&limit=2', { accept: 'text/csv' });
        assert.deepEqual(csv.text.trimEnd().split('\n'), lines);
        const json = await get('?window=month', { accept: 'application/json' });
        assert.match(json.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(json.body.rows.length, 1);
      });

      it('quotes values that need it', async () => {
        const { text } = await get('?window=month&group_by=end_user&format=csv&from=2025-09-01&to=2025-10-01');
        assert.deepEqual(text.trimEnd().split('\n').slice(1), [
          '2025-09-01T00:00:00Z,2025-10-01T00:00:00Z,carol,false,1,5,0,0,5,0,0.000001',
        ]);
      });
    });

    describe('bad requests', () => {
      const cases: Array<[string, string, RegExp]> = [
        ['?from=2025-11-32', 'from', /date/],
        ['?from=yesterday', 'from', /date/],
        ['?to=2025-11-03T10:30:00Z&from=2025-11-03', 'to', /start of a UTC day/],
        ['?window=hour&from=2025-11-03T10:30:00Z&to=2025-11-04', 'from', /start of a UTC hour/],
        ['?window=month&from=2025-11-02&to=2025-12-01', 'from', /start of a UTC month/],
        ['?window=all&from=2025-11-02T10:05:00Z&to=2025-12-01', 'from', /start of a UTC hour/],
        ['?window=hour&from=2025-10-01&to=2025-11-02', 'to', /31 days/],
        ['?window=day&from=2020-01-01&to=2025-01-02', 'to', /5 years/],
        ['?from=2025-11-05&to=2025-11-05', 'to', /after from/],
        ['?from=1999-01-01&to=2000-01-02', 'from', /2000-01-01/],
        ['?window=week', 'window', /./],
        ['?group_by=model,api_key,end_user', 'group_by', /at most 2/],
        ['?group_by=customer', 'group_by', /customer/],
        ['?group_by=tag:Bad', 'group_by', /tag:Bad/],
        ['?group_by=model,model', 'group_by', /twice/],
        ['?group_by=api_key,end_user', 'group_by', /served group_by combinations: .*model,end_user/],
        ['?group_by=end_user&api_key_id=none', 'group_by', /not served/],
        ['?group_by=tag:team&tag.feature=chat', 'group_by', /not served/],
        ['?tag.feature=chat&tag.team=search', 'tag', /only one/],
        ['?tag.Feature=chat', 'tag.Feature', /tag key/],
        ['?limit=0', 'limit', /./],
        ['?limit=1001', 'limit', /./],
        ['?api_key_id=someone', 'api_key_id', /./],
        ['?format=xml', 'format', /./],
      ];
      for (const [query, field, reason] of cases) {
        it(`refuses ${query}`, async () => {
          const response = await get(query);
          assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
          assert.match(response.body.error.system_message, new RegExp(field.replace('.', '\\.')));
          assert.match(response.body.error.system_message, reason);
        });
      }
    });

    describe('rollups', () => {
      it('verify finds nothing to report, and finds a changed breakdown rollup row', async () => {
        const db = server().storage.db;
        assert.deepEqual((await checkRollups(db, org)).differences, []);
        await db
          .updateTable('rollup_model_tag_day')
          .set({ requests: 5n })
          .where('organization_id', '=', org)
          .where('tag_key', '=', 'feature')
          .where('tag_value', '=', 'search')
          .execute();
        const { differences } = await checkRollups(db, org);
        assert.deepEqual(
          differences.map((d) => [d.table, d.key, d.stored?.requests, d.expected?.requests]),
          [['rollup_model_tag_day', `${org}/20251104/claude/feature/search`, 5n, 1n]],
        );
      });

      it('expands tags with tag_entries, one row per tag, none without tags; PostgreSQL inlines it', async () => {
        const db = server().storage.db;
        const entries = async (tags: string | null) =>
          (
            await sql<{ key: string; value: string }>`select key, value from tag_entries(${tags}) order by key`.execute(
              db,
            )
          ).rows;
        assert.deepEqual(await entries('{"feature":"chat","team":"search"}'), [
          { key: 'feature', value: 'chat' },
          { key: 'team', value: 'search' },
        ]);
        assert.deepEqual(await entries('{}'), []);
        assert.deepEqual(await entries(null), []);
        if (server().dialect === 'postgres') {
          // Inlined, the plan scans jsonb_each_text itself; called, it ran about four times slower.
          const plan = await sql<{ 'QUERY PLAN': string }>`
            explain verbose select tag.key from usage_events, tag_entries(usage_events.tags) as tag`.execute(db);
          const text = plan.rows.map((row) => row['QUERY PLAN']).join('\n');
          assert.match(text, /Function Scan on pg_catalog\.jsonb_each_text/);
          assert.doesNotMatch(text, /Function Scan on \S*tag_entries/);
        }
      });

      it('a rebuild restores every grain from the raw events', async () => {
        const db = server().storage.db;
        for (const table of ['rollup_model_user_hour', 'rollup_model_tag_month', 'rollup_model_key_day'] as const) {
          await db.deleteFrom(table).where('organization_id', '=', org).execute();
        }
        for (const month of [9, 10, 11]) {
          await server().storage.transaction((trx) => rebuildMonth(trx, { year: 2025, month }, [org]));
        }
        assert.deepEqual((await checkRollups(db, org)).differences, []);
        const { body } = await get('?window=month&group_by=model,tag:team');
        assert.equal(body.totals.cost, 6.75);
        assert.equal(body.rows.length, 3);
      });
    });
  },
  { clock: () => NOW },
);

for (const dialect of DIALECTS) {
  it(`the migration fills the ranked and per-day model rollups from the breakdown's rollups [${dialect}]`, async () => {
    const database = await createTestDatabase(dialect);
    const storage = await openStorage(database.config);
    try {
      await migrateTestDatabaseTo(storage, '2026_12_04_0201_breakdown_rollups');
      // Rollup rows only, as for months whose raw events retention has deleted.
      const counters = (requests: number, cost: number) => ({
        requests,
        neurons: requests,
        synapses: 0,
        cost_nano: cost,
        cached_neurons: 0,
        cache_write_neurons: 0,
        reasoning_synapses: 0,
      });
      const o = { organization_id: 'org_m' };
      await storage.db
        .insertInto('rollup_model_key_day')
        .values([
          { ...o, day: 20251103, model: 'a', api_key_id: '', ...counters(1, 5) },
          { ...o, day: 20251103, model: 'a', api_key_id: 'k', ...counters(2, 7) },
          { ...o, day: 20251103, model: 'b', api_key_id: 'k', ...counters(1, 1) },
        ])
        .execute();
      await storage.db
        .insertInto('rollup_model_user_month')
        .values([
          { ...o, month: 202511, model: 'a', end_user: 'u', ...counters(3, 12) },
          { ...o, month: 202511, model: 'b', end_user: 'u', ...counters(1, 1) },
          { ...o, month: 202511, model: 'a', end_user: '', ...counters(1, 2) },
        ])
        .execute();
      await storage.db
        .insertInto('rollup_model_tag_month')
        .values([
          { ...o, month: 202511, model: 'a', tag_key: 't', tag_value: 'x', ...counters(2, 4) },
          { ...o, month: 202511, model: 'b', tag_key: 't', tag_value: 'x', ...counters(1, 1) },
          { ...o, month: 202511, model: 'a', tag_key: 't', tag_value: 'y', ...counters(1, 3) },
        ])
        .execute();
      await migrateToLatest(storage);
      const rows = async (
        table: 'rollup_org_model_day' | 'rollup_user_month' | 'rollup_tag_month' | 'rollup_tag_key_month',
        keys: string[],
      ) =>
        (await storage.db.selectFrom(table).selectAll().execute())
          .map((r: Record<string, unknown>) => [
            ...keys.map((k) => String(r[k])),
            Number(r.requests),
            Number(r.cost_nano),
          ])
          .sort((a, b) => String(a).localeCompare(String(b)));
      assert.deepEqual(await rows('rollup_org_model_day', ['day', 'model']), [
        ['20251103', 'a', 3, 12],
        ['20251103', 'b', 1, 1],
      ]);
      assert.deepEqual(await rows('rollup_user_month', ['month', 'end_user']), [
        ['202511', '', 1, 2],
        ['202511', 'u', 4, 13],
      ]);
      assert.deepEqual(await rows('rollup_tag_month', ['month', 'tag_key', 'tag_value']), [
        ['202511', 't', 'x', 3, 5],
        ['202511', 't', 'y', 1, 3],
      ]);
      assert.deepEqual(await rows('rollup_tag_key_month', ['month', 'tag_key']), [['202511', 't', 4, 8]]);
    } finally {
      await storage.close();
      await database.drop();
    }
  });
}
