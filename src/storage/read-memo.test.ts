import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BYPASS_CALLS, MISS_STREAK, ReadMemo, sharedReads } from './read-memo.ts';

describe('ReadMemo', () => {
  it('reuses a result while the marker stays, and reads again once it moves', async () => {
    let marker = 'a';
    let loads = 0;
    const memo = new ReadMemo(() => marker, 100);
    const load = async () => ++loads;
    assert.equal(await memo.get(['summary', 'org_a'], load), 1);
    assert.equal(await memo.get(['summary', 'org_a'], load), 1);
    assert.equal(await memo.get(['summary', 'org_b'], load), 2, 'another key is another read');
    marker = 'b';
    assert.equal(await memo.get(['summary', 'org_a'], load), 3);
    assert.equal(await memo.get(['summary', 'org_a'], load), 3);
    assert.deepEqual(memo.counts, { hits: 2, misses: 3 });
  });

  it('keeps keys apart even where joining their parts would not', async () => {
    const memo = new ReadMemo(() => 'a', 100);
    assert.equal(await memo.get(['k', 'a/b', 'c'], async () => 1), 1);
    assert.equal(await memo.get(['k', 'a', 'b/c'], async () => 2), 2);
  });

  it('keeps nothing when it may keep no entries', async () => {
    let loads = 0;
    const memo = new ReadMemo(() => 'a', 0);
    await memo.get(['k'], async () => ++loads);
    assert.equal(await memo.get(['k'], async () => ++loads), 2);
    assert.deepEqual(memo.counts, { hits: 0, misses: 2 });
  });

  it('starts over once it holds its most entries', async () => {
    const memo = new ReadMemo(() => 'a', 2);
    await memo.get(['a'], async () => 'a1');
    await memo.get(['b'], async () => 'b1');
    await memo.get(['c'], async () => 'c1'); // full: the earlier entries are dropped
    assert.equal(await memo.get(['c'], async () => 'c2'), 'c1');
    assert.equal(await memo.get(['a'], async () => 'a2'), 'a2');
  });

  it('does not keep a failed read', async () => {
    const memo = new ReadMemo(() => 'a', 100);
    await assert.rejects(
      memo.get(['x'], async () => {
        throw new Error('unknown organization');
      }),
    );
    assert.equal(await memo.get(['x'], async () => 'found'), 'found');
  });

  it('never serves a result stored under a marker read before a commit', async () => {
    // The write commits while the first call is loading: its result is kept under the old
    // marker, so the next call, which sees the new marker, reads again.
    let marker = 'before';
    const memo = new ReadMemo(() => marker, 100);
    const first = memo.get(['k'], async () => {
      marker = 'after';
      return 'old';
    });
    assert.equal(await first, 'old');
    assert.equal(await memo.get(['k'], async () => 'new'), 'new');
  });
});

describe('ReadMemo under steady writes', () => {
  /** A marker that moves on every read (a write committed before each call), and counts its reads. */
  function movingMarker() {
    let reads = 0;
    return { marker: () => `m${++reads}`, reads: () => reads };
  }

  it('stops reading the marker of a key that keeps missing, for a while, and reads fresh meanwhile', async () => {
    const { marker, reads } = movingMarker();
    const memo = new ReadMemo(marker, 100);
    let loads = 0;
    const load = async () => ++loads;
    for (let i = 1; i <= MISS_STREAK; i++) assert.equal(await memo.get(['k'], load), i);
    assert.equal(reads(), MISS_STREAK);
    for (let i = 1; i <= BYPASS_CALLS; i++) assert.equal(await memo.get(['k'], load), MISS_STREAK + i);
    assert.equal(reads(), MISS_STREAK, 'no marker read while bypassing');
    assert.equal(await memo.get(['k'], load), MISS_STREAK + BYPASS_CALLS + 1);
    assert.equal(reads(), MISS_STREAK + 1, 'then the marker is tried again');
    assert.deepEqual(memo.counts, { hits: 0, misses: MISS_STREAK + BYPASS_CALLS + 1 });
    // Other keys keep reading the marker.
    await memo.get(['other'], load);
    assert.equal(reads(), MISS_STREAK + 2);
  });

  it('starts counting misses again after a hit', async () => {
    let marker = 0;
    let reads = 0;
    const memo = new ReadMemo(() => {
      reads++;
      return String(marker);
    }, 100);
    const load = async () => marker;
    for (let i = 0; i < MISS_STREAK - 1; i++) {
      marker++;
      await memo.get(['k'], load);
    }
    await memo.get(['k'], load); // a hit: nothing was written since
    for (let i = 0; i < MISS_STREAK - 1; i++) {
      marker++;
      assert.equal(await memo.get(['k'], load), marker);
    }
    marker++;
    assert.equal(await memo.get(['k'], load), marker);
    assert.equal(reads, 2 * MISS_STREAK, 'every call read the marker: the hit ended the streak');
    assert.deepEqual(memo.counts, { hits: 1, misses: 2 * MISS_STREAK - 1 });
  });
});

describe('sharedReads', () => {
  /** A read whose calls stay pending until `finish` is called; `started` counts them. */
  function manualRead() {
    const pending: Array<(value: string) => void> = [];
    let started = 0;
    return {
      read: () =>
        new Promise<string>((resolve) => {
          started++;
          pending.push(resolve);
        }),
      started: () => started,
      finish: (value: string) => pending.shift()!(value),
    };
  }

  it('gives callers that arrive during a read the next read, one for all of them', async () => {
    const source = manualRead();
    const marker = sharedReads(source.read);
    const first = marker();
    const second = marker();
    const third = marker();
    assert.equal(source.started(), 1, 'the later callers wait instead of starting reads');
    source.finish('m1');
    assert.equal(await first, 'm1');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(source.started(), 2, 'the waiting callers share a read started after they called');
    source.finish('m2');
    assert.deepEqual(await Promise.all([second, third]), ['m2', 'm2']);
  });

  it('starts a fresh read for a caller that arrives when none is running', async () => {
    const source = manualRead();
    const marker = sharedReads(source.read);
    const first = marker();
    source.finish('m1');
    await first;
    const later = marker();
    assert.equal(source.started(), 2);
    source.finish('m2');
    assert.equal(await later, 'm2');
  });

  it('passes a failed read on to its callers and recovers', async () => {
    let fail = true;
    const marker = sharedReads(async () => {
      if (fail) throw new Error('connection lost');
      return 'ok';
    });
    await assert.rejects(marker(), /connection lost/);
    fail = false;
    assert.equal(await marker(), 'ok');
  });
});
