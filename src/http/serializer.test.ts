import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { ChfAmount } from '../money/chf.ts';
import { write, writeWithMoney } from './serializer.ts';

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

describe('writeWithMoney', () => {
  it('writes money amounts as floats and everything else as JSON.stringify does', () => {
    const text = writeWithMoney({
      limit: new ChfAmount(1_000_000_000n),
      spent: new ChfAmount(1_500_000n),
      zero: new ChfAmount(0n),
      count: 1,
      list: [new ChfAmount(2_000_000_000n), 'a', null],
      nested: { at: new Date(0), skipped: undefined },
    });
    assert.equal(
      text,
      '{"limit":1.0,"spent":0.0015,"zero":0.0,"count":1,"list":[2.0,"a",null],"nested":{"at":"1970-01-01T00:00:00.000Z"}}',
    );
    assert.equal(JSON.stringify({ limit: new ChfAmount(1_000_000_000n) }), '{"limit":1}');
  });
});
