import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MAX_JSON_DEPTH, nestedTooDeep } from './json-nesting.ts';

const nested = (depth: number, open = '[', close = ']') => `${open.repeat(depth)}${close.repeat(depth)}`;

it('counts arrays and objects, and refuses one level past the limit', () => {
  assert.equal(nestedTooDeep(nested(MAX_JSON_DEPTH)), false);
  assert.equal(nestedTooDeep(nested(MAX_JSON_DEPTH + 1)), true);
  assert.equal(nestedTooDeep(`${'{"a":'.repeat(MAX_JSON_DEPTH)}1${'}'.repeat(MAX_JSON_DEPTH)}`), false);
  assert.equal(nestedTooDeep(`${'{"a":['.repeat(17)}1${']}'.repeat(17)}`), true);
  // Depth is how many are open at once, not how many there are.
  assert.equal(nestedTooDeep(`[${Array(1000).fill('[[1]]').join(',')}]`), false);
});

it('ignores brackets inside strings, escaped quotes and backslashes included', () => {
  assert.equal(nestedTooDeep(JSON.stringify({ id: '['.repeat(100) })), false);
  assert.equal(nestedTooDeep(JSON.stringify({ id: `\\"${'{'.repeat(100)}\\` })), false);
  assert.equal(nestedTooDeep(`["\\\\",${nested(MAX_JSON_DEPTH)}]`), true);
});
