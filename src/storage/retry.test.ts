import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withRetry } from './retry.ts';

const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

describe('withRetry', () => {
  it('runs a transaction that failed on a busy database or a deadlock again, up to five times', async () => {
    let runs = 0;
    await assert.rejects(
      withRetry(async () => {
        runs++;
        throw busy();
      }),
      { code: 'SQLITE_BUSY' },
    );
    assert.equal(runs, 5);

    runs = 0;
    const answer = await withRetry(async () => {
      if (++runs < 3) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      return 'done';
    });
    assert.deepEqual([answer, runs], ['done', 3]);
  });

  it('does not run again once the deadline has passed: one wait for a lock is the whole bound', async () => {
    let runs = 0;
    const deadline = Date.now() + 40;
    await assert.rejects(
      withRetry(async () => {
        runs++;
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw busy();
      }, deadline),
      { code: 'SQLITE_BUSY' },
    );
    assert.equal(runs, 1);
  });

  it('never runs again after an error that a new attempt would not cure', async () => {
    let runs = 0;
    await assert.rejects(
      withRetry(async () => {
        runs++;
        throw Object.assign(new Error('duplicate key'), { code: '23505' });
      }),
    );
    assert.equal(runs, 1);
  });
});
