import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from './principal.ts';
import { PrincipalCache } from './principal-cache.ts';

const key: Principal = { kind: 'api_key', organizationId: 'org_a', apiKeyId: 'apikey_a', scopes: ['read:usage'] };
const admin: Principal = { kind: 'admin', keyId: 'admin_a' };

describe('PrincipalCache', () => {
  const cases: Array<{ name: string; keyExpiresAt: number | null; askAt: number; hit: boolean }> = [
    { name: 'within the TTL', keyExpiresAt: null, askAt: 1_000 + 4_999, hit: true },
    { name: 'at the end of the TTL', keyExpiresAt: null, askAt: 1_000 + 5_000, hit: false },
    { name: 'before the key expires', keyExpiresAt: 2_000, askAt: 1_999, hit: true },
    { name: 'once the key has expired, within the TTL', keyExpiresAt: 2_000, askAt: 2_000, hit: false },
    { name: 'with the clock set back', keyExpiresAt: null, askAt: 999, hit: false },
  ];
  for (const c of cases) {
    it(`${c.hit ? 'answers' : 'does not answer'} ${c.name}`, () => {
      const cache = new PrincipalCache(5_000);
      cache.set('h', key, 1_000, c.keyExpiresAt);
      assert.equal(cache.get('h', c.askAt), c.hit ? key : undefined);
    });
  }

  it('does not keep a key that has already expired', () => {
    const cache = new PrincipalCache(5_000);
    cache.set('h', key, 1_000, 1_000);
    assert.equal(cache.get('h', 1_000), undefined);
  });

  it('forgets every entry of a changed key and only those', () => {
    const cache = new PrincipalCache(5_000);
    cache.set('h1', key, 0, null);
    cache.set('h2', admin, 0, null);
    cache.forgetKey('apikey_a');
    assert.equal(cache.get('h1', 1), undefined);
    assert.equal(cache.get('h2', 1), admin);
    cache.forgetKey('admin_a');
    assert.equal(cache.get('h2', 1), undefined);
  });

  it('does not keep a principal looked up before a change of any key was heard', () => {
    const cache = new PrincipalCache(5_000);
    const mark = cache.mark();
    cache.forgetKey('apikey_a');
    cache.set('h1', key, 0, null, mark);
    assert.equal(cache.get('h1', 1), undefined);
    cache.set('h1', key, 0, null, cache.mark());
    assert.equal(cache.get('h1', 1), key);
  });

  it('answers nothing while changes may go unheard, and starts afresh once they are heard again', () => {
    const cache = new PrincipalCache(5_000);
    cache.set('h1', key, 0, null);
    cache.distrust();
    assert.equal(cache.get('h1', 1), undefined);
    cache.set('h2', admin, 0, null);
    assert.equal(cache.get('h2', 1), undefined);
    cache.trust();
    assert.equal(cache.get('h1', 1), undefined);
    cache.set('h2', admin, 0, null);
    assert.equal(cache.get('h2', 1), admin);
  });
});
