/**
 * The Python example of each documented endpoint, as published (only the host and the key id
 * swapped for the local ones), runs against a real server and prints its lines.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, it } from 'node:test';
import { promisify } from 'node:util';
import { fromRoot } from '../src/project-root.ts';
import { CHF, forEachDialect, ingest, makeApiKey, makeOrg } from './harness.ts';

const EXAMPLES = fromRoot('test', 'seed-examples');

/** A Python 3 that has `requests`, as the examples import it. */
function findPython(): string {
  const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => Boolean(c));
  for (const candidate of candidates) {
    if (spawnSync(candidate, ['-c', 'import requests'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  throw new Error('no python3 with the requests package (apt-get install python3-requests)');
}

forEachDialect('Python examples of the documented endpoints', (server) => {
  let python: string;
  let keyId: string;
  let secret: string;

  before(async () => {
    python = findPython();
    await makeOrg(server(), { id: 'org_abc123' });
    const key = await makeApiKey(server(), 'org_abc123', { name: 'Production Key', monthlyLimitNano: 500n * CHF });
    keyId = key.id;
    secret = key.secret;
    await ingest(server(), [
      {
        id: 'p1',
        organization_id: 'org_abc123',
        api_key_id: keyId,
        model: 'gpt-4o',
        neurons: 2000,
        synapses: 100,
        cost: '350.25',
        timestamp: '2025-11-19T10:00:00Z',
      },
      {
        id: 'p2',
        organization_id: 'org_abc123',
        api_key_id: null,
        model: 'gpt-4o-mini',
        neurons: 10,
        synapses: 5,
        cost: '6000',
        timestamp: '2025-11-19T11:00:00Z',
      },
    ]);
  });

  // Asynchronous: the server answering the script runs in this very process.
  const run = async (file: string) => {
    const source = fs
      .readFileSync(path.join(EXAMPLES, file), 'utf8')
      .replaceAll('https://api.aitronos.com', server().baseUrl)
      .replaceAll('apikey_def456', keyId);
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-py-')), file);
    fs.writeFileSync(script, source);
    const { stdout } = await promisify(execFile)(python, [script], { env: { ...process.env, FREDDY_API_KEY: secret } });
    return stdout;
  };

  it('usage summary', async () => {
    assert.equal(await run('usage-summary.py'), 'Total cost: 6350.25 CHF\nTop model: gpt-4o-mini\n');
  });
  it('API key usage summary', async () => {
    assert.equal(await run('api-keys-summary.py'), 'Total API requests: 1\nTotal cost: 350.25 CHF\n');
  });
  it('API key usage', async () => {
    assert.equal(await run('api-key-usage.py'), 'Total requests: 1\nTotal cost: CHF 350.25\n');
  });
});
