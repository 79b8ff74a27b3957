/**
 * Graceful shutdown of the real server process: SIGTERM in the middle of a stream of
 * ingestion batches from several clients. The process must exit 0, every batch answered 200
 * must be stored, and a batch refused during shutdown must be refused cleanly (connection
 * refused or the 503 envelope) and never half-written.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStorage } from '../../src/storage/storage.ts';
import { createTestDatabase, DIALECTS } from '../harness.ts';
import { startServerProcess } from '../process.ts';

const CLIENTS = 4;
const BATCH_SIZE = 200;
/** SIGTERM is sent once this many batches were acknowledged, so that the stream is well under way. */
const ACKED_BEFORE_SIGTERM = 12;

type Outcome = 'acknowledged' | 'connection refused or closed' | 'refused with 503';

interface Batch {
  ids: string[];
  outcome: Outcome;
}

for (const dialect of DIALECTS) {
  describe(`graceful shutdown [${dialect}]`, () => {
    it('exits 0 on SIGTERM mid-stream, with every acknowledged event stored and no batch half-written', async (t) => {
      const database = await createTestDatabase(dialect);
      try {
        const server = await startServerProcess(database.env);
        const adminKey = /\n {2}(fak_[A-Za-z0-9]{40})\n/.exec(server.stderr.join(''))?.[1];
        assert.ok(adminKey, server.stderr.join(''));
        const created = await fetch(`${server.url}/v1/organizations`, {
          method: 'POST',
          headers: { 'x-api-key': adminKey, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Shutdown Org' }),
        });
        assert.equal(created.status, 201);
        const orgId = ((await created.json()) as { id: string }).id;

        const batches: Batch[] = [];
        const unexpected: string[] = [];
        let acknowledged = 0;
        let sigtermSent = false;
        let finishedAfterSigterm = 0;
        const connectionErrors = new Set<string>();

        const send = async (client: number, n: number): Promise<Outcome | undefined> => {
          const ids = Array.from({ length: BATCH_SIZE }, (_, i) => `c${client}-b${n}-e${i}`);
          const events = ids.map((id, i) => ({
            id,
            organization_id: orgId,
            model: i % 3 ? 'gpt-4o' : 'gpt-4o-mini',
            neurons: 100 + i,
            synapses: 10 + i,
            cost: '0.001',
          }));
          const startedBeforeSigterm = !sigtermSent;
          let outcome: Outcome | undefined;
          try {
            const response = await fetch(`${server.url}/v1/usage/events`, {
              method: 'POST',
              headers: { 'x-api-key': adminKey, 'content-type': 'application/json' },
              body: JSON.stringify({ events }),
            });
            const text = await response.text();
            if (response.status === 200) outcome = 'acknowledged';
            else if (response.status === 503 && JSON.parse(text).error?.code === 'SERVICE_UNAVAILABLE') {
              outcome = 'refused with 503';
            } else unexpected.push(`${response.status} ${text}`);
          } catch (error) {
            // The process stopped listening, or closed the idle keep-alive socket this request was sent on.
            outcome = 'connection refused or closed';
            connectionErrors.add((error as { cause?: { code?: string } }).cause?.code ?? String(error));
            if (!sigtermSent) unexpected.push(`before SIGTERM: ${String(error)}`);
          }
          if (outcome) batches.push({ ids, outcome });
          if (outcome === 'acknowledged') {
            acknowledged++;
            if (startedBeforeSigterm && sigtermSent) finishedAfterSigterm++;
          }
          return outcome;
        };

        const client = async (c: number) => {
          for (let n = 0; ; n++) {
            const outcome = await send(c, n);
            if (outcome !== 'acknowledged') return;
          }
        };
        const stream = Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));

        while (acknowledged < ACKED_BEFORE_SIGTERM && unexpected.length === 0) await sleep(5);
        sigtermSent = true;
        server.child.kill('SIGTERM');
        await stream;
        const code = await server.exited;

        assert.deepEqual(unexpected, [], 'every answer is a 200, a clean refusal, or a refused connection');
        assert.equal(code, 0, server.stderr.join(''));
        assert.ok(
          server.stdout.some((line) => line.includes('"signal":"SIGTERM"')),
          'the shutdown is logged',
        );
        // The log is written in the background; what was logged before the exit is all there.
        assert.equal(
          server.stdout.filter((line) => line.includes('"route":"/v1/usage/events"') && line.includes('"status":200'))
            .length,
          acknowledged,
          'every acknowledged batch has its access line',
        );

        const storage = await openStorage(database.config);
        try {
          const rows = await storage.db
            .selectFrom('usage_events')
            .select('id')
            .where('organization_id', '=', orgId)
            .execute();
          const stored = new Set(rows.map((row) => row.id));
          let storedAcknowledged = 0;
          for (const batch of batches) {
            const present = batch.ids.filter((id) => stored.has(id)).length;
            if (batch.outcome === 'acknowledged') {
              assert.equal(present, batch.ids.length, 'an acknowledged batch is stored whole');
              storedAcknowledged += present;
            } else {
              // In-flight requests are finished and answered, so a request that got no answer
              // never reached a handler (an idle keep-alive socket closed under it, or no listener).
              assert.equal(present, 0, `a batch ${batch.outcome} wrote nothing`);
            }
          }
          assert.equal(storedAcknowledged, acknowledged * BATCH_SIZE);
          // Not asserted (timing-dependent), but shown: batches in flight at SIGTERM that still completed.
          t.diagnostic(
            `${acknowledged} batches acknowledged (${finishedAfterSigterm} in flight at SIGTERM), ` +
              `${batches.filter((b) => b.outcome === 'refused with 503').length} refused with 503, ` +
              `${batches.filter((b) => b.outcome === 'connection refused or closed').length} refused or closed connections (${[...connectionErrors].join(', ')})`,
          );
        } finally {
          await storage.close();
        }
      } finally {
        await database.drop();
      }
    });
  });
}
