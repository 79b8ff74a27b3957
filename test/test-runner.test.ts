/** The test runner itself: a misspelt engine fails loudly instead of running no engine at all. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { fromRoot } from '../src/project-root.ts';
import { parseDialects } from './harness.ts';

const RUNNER = fromRoot('scripts', 'run-tests.mjs');

it('accepts the two engines, alone or together, and rejects any other name', () => {
  assert.deepEqual(parseDialects('sqlite,postgres'), ['sqlite', 'postgres']);
  assert.deepEqual(parseDialects(' postgres '), ['postgres']);
  assert.deepEqual(parseDialects('sqlite,sqlite'), ['sqlite']);
  for (const wrong of ['Postgres', 'sqlite,pg', '', 'sqlite,']) {
    assert.throws(() => parseDialects(wrong), /FREDDY_TEST_DIALECTS: unknown engine/, wrong);
  }
});

it('stops the runner before any test runs when FREDDY_TEST_DIALECTS names an unknown engine', async () => {
  const run = promisify(execFile)(process.execPath, [RUNNER, 'test-runner.test'], {
    env: { ...process.env, FREDDY_TEST_DIALECTS: 'Postgres' },
  });
  await assert.rejects(run, (error: { code: number; stderr: string; stdout: string }) => {
    assert.equal(error.code, 1);
    assert.match(error.stderr, /unknown engine "Postgres"/);
    assert.equal(error.stdout, '');
    return true;
  });
});
