/**
 * The import takes what an event carries beyond its totals: the cache and reasoning parts, the
 * end user and the tags, in NDJSON as in the API and in CSV as columns (`tag.<key>` per tag,
 * empty cells absent), with bad lines reported by number in the API's words.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { importFile } from '../src/cli/import.ts';
import { toBigInt } from '../src/storage/values.ts';
import { forEachDialect, makeOrg } from './harness.ts';

forEachDialect('import of parts, end users and tags', (server) => {
  let dir: string;
  let orgId: string;
  const write = (name: string, lines: string[]) => {
    const target = path.join(dir, name);
    fs.writeFileSync(target, `${lines.join('\n')}\n`);
    return target;
  };
  const run = async (file: string, format: 'ndjson' | 'csv') => {
    const bad: string[] = [];
    const summary = await importFile(server().ctx, file, {
      format,
      onBadLine: (line, reason) => bad.push(`${line}: ${reason}`),
    });
    return { accepted: summary.accepted, duplicates: summary.duplicates, bad };
  };
  const stored = async (id: string) => {
    const row = await server()
      .storage.db.selectFrom('usage_events')
      .select(['cached_neurons', 'cache_write_neurons', 'reasoning_synapses', 'end_user', 'tags'])
      .where('organization_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return [
      toBigInt(row.cached_neurons),
      toBigInt(row.cache_write_neurons),
      toBigInt(row.reasoning_synapses),
      row.end_user,
      row.tags,
    ];
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-import-fields-'));
    orgId = (await makeOrg(server())).id;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('imports the new fields from NDJSON and reports a bad part or tag by line', async () => {
    const event = (id: string, extra: Record<string, unknown>) =>
      JSON.stringify({
        id,
        organization_id: orgId,
        model: 'gpt-4o',
        neurons: 100,
        synapses: 20,
        cost: '0.01',
        timestamp: '2025-11-03T12:00:00Z',
        ...extra,
      });
    const file = write('fields.ndjson', [
      event('n1', {
        cached_neurons: 40,
        cache_write_neurons: 60,
        reasoning_synapses: 20,
        end_user: 'user-7',
        tags: { team: 'search', feature: 'chat' },
      }),
      event('n2', { cached_neurons: 101 }),
      event('n3', { tags: { Feature: 'chat' } }),
      event('n4', {}),
    ]);
    const result = await run(file, 'ndjson');
    assert.deepEqual(result.accepted, 2);
    assert.deepEqual(result.bad.length, 2, result.bad.join('\n'));
    assert.match(result.bad[0]!, /^2: cached_neurons must not exceed neurons$/);
    assert.match(result.bad[1]!, /^3: tags has a key "Feature" that must match pattern "\^\[a-z\]/);
    assert.deepEqual(await stored('n1'), [40n, 60n, 20n, 'user-7', '{"feature":"chat","team":"search"}']);
    assert.deepEqual(await stored('n4'), [0n, 0n, 0n, null, null]);
  });

  it('imports the new fields from CSV columns, tags as tag.<key>, empty cells absent', async () => {
    const header =
      'id,organization_id,model,neurons,synapses,cost,timestamp,cached_neurons,cache_write_neurons,reasoning_synapses,end_user,tag.feature,tag.team';
    const file = write('fields.csv', [
      header,
      `c1,${orgId},gpt-4o,100,20,0.01,2025-11-04T12:00:00Z,10,5,3,"Müller, AG",chat,search`,
      `c2,${orgId},gpt-4o,100,20,0.01,2025-11-04T12:00:00Z,,,,,,`,
      `c3,${orgId},gpt-4o,100,20,0.01,2025-11-04T12:00:00Z,,,,,,search`,
      `c4,${orgId},gpt-4o,100,20,0.01,2025-11-04T12:00:00Z,,,21,,,`,
      `c5,${orgId},gpt-4o,100,20,0.01,2025-11-04T12:00:00Z,,,,,${'v'.repeat(257)},`,
      `c6,${orgId},gpt-4o,100,20,0.01,2025-11-04T12:00:00Z,1.5,,,,,`,
    ]);
    const result = await run(file, 'csv');
    assert.equal(result.accepted, 3);
    assert.equal(result.bad.length, 3, result.bad.join('\n'));
    assert.match(result.bad[0]!, /^5: reasoning_synapses must not exceed synapses$/);
    assert.match(result.bad[1]!, /^6: tags\.feature must NOT have more than 256 characters$/);
    assert.match(result.bad[2]!, /^7: cached_neurons must be integer$/);
    assert.deepEqual(await stored('c1'), [10n, 5n, 3n, 'Müller, AG', '{"feature":"chat","team":"search"}']);
    assert.deepEqual(await stored('c2'), [0n, 0n, 0n, null, null]);
    assert.deepEqual(await stored('c3'), [0n, 0n, 0n, null, '{"team":"search"}']);
    const again = await run(file, 'csv');
    assert.deepEqual([again.accepted, again.duplicates], [0, 3]);
  });
});
