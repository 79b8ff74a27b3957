import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Type } from '@sinclair/typebox';
import { validatorCompiler } from './validation.ts';

const schema = Type.Object({ n: Type.Integer() });
type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null };

function compilers() {
  const validators = validatorCompiler(Date.now);
  const make = (httpPart: 'body' | 'querystring') =>
    validators.compiler({ schema, httpPart, method: 'GET', url: '/x' }) as Validate;
  return { validators, query: make('querystring'), body: make('body') };
}

describe('route validators', () => {
  it('compiles each when first used, coercing text outside bodies only', () => {
    const { validators, query, body } = compilers();
    assert.equal(validators.pending(), 2);
    assert.equal(query({ n: '5' }), true);
    assert.equal(validators.pending(), 1);
    assert.equal(body({ n: '5' }), false);
    assert.equal(body.errors?.length, 1);
    assert.equal(body({ n: 5 }), true);
    assert.equal(body.errors, null);
    assert.equal(validators.pending(), 0);
  });

  it('compiles the rest, one per turn of the event loop, when warmed up', async () => {
    const { validators, query, body } = compilers();
    validators.warmUp();
    assert.equal(validators.pending(), 1, 'one compiled at once, the other left for the next turn');
    for (let turn = 0; turn < 10 && validators.pending() > 0; turn++) await nextTurn();
    assert.equal(validators.pending(), 0);
    assert.equal(query({ n: '7' }), true);
    assert.equal(body({ n: 'seven' }), false);
  });
});
