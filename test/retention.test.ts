/**
 * Raw event retention (RAW_EVENTS_RETENTION_MONTHS): old months' raw events are removed (whole
 * partitions on PostgreSQL, rows on SQLite) while every analytics answer stays as it was, an
 * event before the horizon is refused however it arrives, and `verify` and its repair leave the
 * removed months alone.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { sql } from 'kysely';
import { importFile } from '../src/cli/import.ts';
import { checkRollups } from '../src/modules/rollups/check.ts';
import { storedMonth } from '../src/modules/rollups/rebuild.ts';
import { repairRollups } from '../src/modules/rollups/repair.ts';
import { partitionMonths } from '../src/storage/postgres/partitions.ts';
import { assertEnvelope, type EventInput, forEachDialect, ingest, makeApiKey, makeOrg } from './harness.ts';

let now = Date.parse('2025-03-31T12:00:00Z');

forEachDialect(
  'raw event retention',
  (server) => {
    let orgId = '';
    let keyId = '';
    let otherOrgId = '';
    const early: EventInput[] = [];

    /** Events spread over the month's days, with and without a key, over two models. */
    function eventsOf(org: string, key: string, month: number, count: number, prefix = ''): EventInput[] {
      return Array.from({ length: count }, (_, i) => ({
        id: `${prefix}${org}-${month}-${i}`,
        organization_id: org,
        api_key_id: i % 3 === 0 ? null : key,
        model: i % 2 === 0 ? 'gpt-4o' : 'claude-3-opus',
        neurons: 100 + i,
        synapses: 7 * i,
        cost: `0.00${(i % 9) + 1}`,
        timestamp: new Date(Date.UTC(2025, month - 1, 1 + (i % 27), i % 24, 17)).toISOString(),
      }));
    }

    /** Every analytics answer about the organization, for each month of 2025 that had usage. */
    async function answers(): Promise<Record<string, unknown>> {
      const paths: string[] = [
        `/v1/analytics/usage/monthly/${orgId}?months=12`,
        `/v1/analytics/usage/yearly/${orgId}?years=2`,
        `/v1/analytics/usage/summary/${orgId}`,
      ];
      for (let month = 1; month <= 5; month++) {
        paths.push(
          `/v1/analytics/api-keys/summary/${orgId}?year=2025&month=${month}`,
          `/v1/analytics/api-keys/usage/${orgId}/${keyId}?year=2025&month=${month}`,
          `/v1/analytics/usage/daily/${orgId}?year=2025&month=${month}`,
          `/v1/analytics/api-keys/daily/${orgId}?year=2025&month=${month}`,
          `/v1/analytics/${orgId}/api-keys/top/${month}/2025?limit=5`,
          `/v1/analytics/usage/limits/${orgId}?year=2025&month=${month}`,
        );
      }
      const result: Record<string, unknown> = {};
      for (const url of paths) {
        const response = await server().request('GET', url, { key: server().adminKey });
        assert.equal(response.status, 200, `${url}: ${response.text}`);
        result[url] = response.body;
      }
      return result;
    }

    const rawCount = async (before: number) => {
      const row = await server()
        .storage.db.selectFrom('usage_events')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('occurred_at', '<', BigInt(before))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    };

    it('refuses nothing within the horizon and stores months of usage', async () => {
      now = Date.parse('2025-03-31T12:00:00Z');
      orgId = (await makeOrg(server())).id;
      otherOrgId = (await makeOrg(server())).id;
      keyId = (await makeApiKey(server(), orgId)).id;
      const otherKey = (await makeApiKey(server(), otherOrgId)).id;
      // At 2025-03-31, keeping 3 months keeps January on.
      early.push(
        ...[1, 2, 3].flatMap((m) => [...eventsOf(orgId, keyId, m, 40), ...eventsOf(otherOrgId, otherKey, m, 9)]),
      );
      assert.deepEqual(await ingest(server(), early), { accepted: early.length, duplicates: 0 });
      now = Date.parse('2025-05-31T08:00:00Z');
      const later = [4, 5].flatMap((m) => eventsOf(orgId, keyId, m, 30));
      assert.deepEqual(await ingest(server(), later), { accepted: later.length, duplicates: 0 });
    });

    it('removes the months past the horizon and keeps every analytics answer equal', async () => {
      const horizon = Date.parse('2025-03-01T00:00:00Z');
      const before = await answers();
      const januaryRollups = await storedMonth(server().storage.db, { year: 2025, month: 1 });
      assert.ok((await rawCount(horizon)) > 0);

      const removed = await server().ctx.retention.maintain();
      if (server().dialect === 'postgres') {
        assert.deepEqual(removed, { months: [202501, 202502] });
        const months = await partitionMonths(server().storage.db);
        assert.deepEqual(
          months.filter((m) => m < 202503),
          [],
        );
        // The months ahead exist before any event comes for them.
        for (const month of [202503, 202504, 202505, 202506, 202507, 202508])
          assert.ok(months.includes(month), `${month}`);
        const ids = await sql<{ n: string }>`select count(*) as n from usage_event_ids`.execute(server().storage.db);
        assert.equal(Number(ids.rows[0]!.n), await rawCount(Number.MAX_SAFE_INTEGER));
      } else {
        assert.deepEqual(removed, { rows: (40 + 9) * 2 });
      }
      assert.equal(await rawCount(horizon), 0);
      assert.equal(await rawCount(Date.parse('2025-04-01T00:00:00Z')), 49, 'March is kept');
      assert.deepEqual(await answers(), before);
      assert.deepEqual(await storedMonth(server().storage.db, { year: 2025, month: 1 }), januaryRollups);

      // Nothing more to remove: a second run changes nothing.
      const again = await server().ctx.retention.maintain();
      assert.deepEqual(again, server().dialect === 'postgres' ? { months: [] } : { rows: 0 });
      assert.deepEqual(await answers(), before);
    });

    it('refuses a retried event of a removed month with a 400 naming the horizon, and writes nothing', async () => {
      const before = await answers();
      const retried = early[0]!;
      const fresh = { ...early[1]!, id: 'never-seen-before' };
      const inHorizon = { ...early[0]!, id: 'march-new', timestamp: '2025-03-02T00:00:00Z' };
      const response = await server().request('POST', '/v1/usage/events', {
        key: server().adminKey,
        body: { events: [retried, inHorizon, fresh] },
      });
      assertEnvelope(assert, response, 400, 'INVALID_REQUEST');
      const errors = response.body.error.details.errors as Array<{ field: string; reason: string }>;
      assert.deepEqual(
        errors.map((e) => e.field),
        ['events[0].timestamp', 'events[2].timestamp'],
      );
      assert.match(errors[0]!.reason, /must not be before 2025-03-01T00:00:00\.000Z.*RAW_EVENTS_RETENTION_MONTHS/);
      assert.deepEqual(await answers(), before);
      assert.equal(await rawCount(Date.parse('2025-03-01T00:00:00Z')), 0);

      // Within the horizon, retries are still recognized.
      assert.deepEqual(await ingest(server(), [inHorizon]), { accepted: 1, duplicates: 0 });
      const march = early.find((e) => e.timestamp?.startsWith('2025-03'))!;
      assert.deepEqual(await ingest(server(), [march, inHorizon]), { accepted: 0, duplicates: 2 });
    });

    it('refuses such an event in a CLI import too, naming the line and the horizon', async () => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'retention-')), 'late.ndjson');
      fs.writeFileSync(file, `${JSON.stringify(early[2])}\n${JSON.stringify({ ...early[3]!, id: 'imported-late' })}\n`);
      const bad: Array<[number, string]> = [];
      const summary = await importFile(server().ctx, file, {
        format: 'ndjson',
        onBadLine: (line, reason) => bad.push([line, reason]),
      });
      assert.equal(summary.accepted, 0);
      assert.deepEqual(
        bad.map(([line]) => line),
        [1, 2],
      );
      assert.match(bad[0]![1], /timestamp must not be before 2025-03-01T00:00:00\.000Z/);
      assert.equal(await rawCount(Date.parse('2025-03-01T00:00:00Z')), 0);
    });

    it('verifies the months that still have raw events, and never rebuilds a removed one', async () => {
      const check = await checkRollups(server().storage.db);
      assert.deepEqual(check.differences, []);
      assert.equal(check.eventsRemovedBefore, 202503);
      // March to May, and the months ahead whose partitions exist have no rows: May is the last with usage.
      assert.equal(check.monthsChecked, 3);

      const january = await storedMonth(server().storage.db, { year: 2025, month: 1 });
      const repaired = await repairRollups(server().storage, [
        { table: 'rollup_org_month', organizationId: orgId, month: 202501, key: '', stored: null, expected: null },
      ]);
      assert.deepEqual(repaired, []);
      assert.deepEqual(await storedMonth(server().storage.db, { year: 2025, month: 1 }), january);
    });
  },
  { clock: () => now, retentionMonths: 3 },
);
