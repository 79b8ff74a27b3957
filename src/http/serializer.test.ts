import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { write } from './serializer.ts';

describe('schema-driven serializer', () => {
  const schema = Type.Object({
    totalCost: Type.Number(),
    totalRequests: Type.Integer(),
    limit: Type.Union([Type.Number(), Type.Null()]),
    tags: Type.Array(Type.Object({ n: Type.Number() })),
    extra: Type.Record(Type.String(), Type.Number()),
  });
  it('writes floats with a decimal point, integers without, and drops undeclared fields', () => {
    const text = write(
      {
        totalCost: 6250,
        totalRequests: 25000,
        limit: null,
        tags: [{ n: 0.28 }, { n: 3 }],
        extra: { a: 1 },
        secret: 'x',
      },
      schema,
    );
    assert.equal(
      text,
      '{"totalCost":6250.0,"totalRequests":25000,"limit":null,"tags":[{"n":0.28},{"n":3.0}],"extra":{"a":1.0}}',
    );
    assert.deepEqual(JSON.parse(text).totalCost, 6250);
  });
  it('picks the matching branch of a union', () => {
    assert.equal(
      write({ totalCost: 1, totalRequests: 1, limit: 500, tags: [], extra: {} }, schema).includes('"limit":500.0'),
      true,
    );
  });
});
