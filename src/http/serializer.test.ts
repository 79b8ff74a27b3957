import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type TSchema, Type } from '@sinclair/typebox';
import fc from 'fast-check';
import { ChfAmount } from '../money/chf.ts';
import { PROPERTY_ORDER_KEYWORD, write, writeWithMoney } from './serializer.ts';

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

/**
 * The serializer as it was before it was compiled: the schema walked for every value. The
 * compiled writers must write exactly what it wrote.
 */
function interpreted(value: unknown, schemaLike: unknown): string {
  type S = TSchema & { [PROPERTY_ORDER_KEYWORD]?: string[] };
  const schema = schemaLike as S | undefined;
  if (value === null || value === undefined) return 'null';
  if (!schema) return JSON.stringify(value);
  const branches = (schema.anyOf ?? schema.oneOf) as S[] | undefined;
  if (branches) return interpreted(value, branches.find((branch) => typeMatches(value, branch)) ?? {});
  switch (schema.type) {
    case 'number':
      return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 1e21
        ? `${value}.0`
        : JSON.stringify(value);
    case 'object': {
      const record = value as Record<string, unknown>;
      const parts: string[] = [];
      if (schema.properties) {
        for (const key of schema[PROPERTY_ORDER_KEYWORD] ?? Object.keys(schema.properties)) {
          if (record[key] !== undefined)
            parts.push(`${JSON.stringify(key)}:${interpreted(record[key], schema.properties[key])}`);
        }
        return `{${parts.join(',')}}`;
      }
      const rest =
        typeof schema.additionalProperties === 'object'
          ? schema.additionalProperties
          : Object.values((schema.patternProperties ?? {}) as Record<string, S>)[0];
      if (!rest) return JSON.stringify(value);
      for (const [key, item] of Object.entries(record)) {
        if (item !== undefined) parts.push(`${JSON.stringify(key)}:${interpreted(item, rest)}`);
      }
      return `{${parts.join(',')}}`;
    }
    case 'array':
      return Array.isArray(value) ? `[${value.map((item) => interpreted(item, schema.items)).join(',')}]` : 'null';
    default:
      return JSON.stringify(value);
  }
}

function typeMatches(value: unknown, schema: TSchema): boolean {
  const types: string[] = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0) return true;
  return types.some((type) => {
    if (type === 'null') return value === null;
    if (type === 'number' || type === 'integer') return typeof value === 'number';
    if (type === 'array') return Array.isArray(value);
    if (type === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
    return typeof value === type;
  });
}

describe('compiled writers', () => {
  const row = Type.Object({
    start: Type.String(),
    group: Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()])),
    cost: Type.Number(),
    requests: Type.Integer(),
    share: Type.Union([Type.Number(), Type.Null(), Type.String()]),
    anything: Type.Unknown(),
    flag: Type.Boolean(),
    // Written into generated code: a key must stay the key it is.
    'we"ird\\key\u2028': Type.Integer(),
  });
  const ordered = {
    ...Type.Object({ '10': Type.Number(), '09': Type.Number() }),
    [PROPERTY_ORDER_KEYWORD]: ['09', '10', 'absent'],
  };
  const schemas: TSchema[] = [
    Type.Object({ rows: Type.Array(row), totals: row, generated_at: Type.String() }),
    Type.Array(Type.Union([Type.Object({ n: Type.Number() }), Type.Array(Type.Number()), Type.Integer()])),
    ordered,
    Type.Record(Type.String(), Type.Array(Type.Number())),
  ];
  it('write what the schema walk wrote, for any value against any of the routes’ kinds of schema', () => {
    const noises = fc.oneof(
      fc.anything({ withNullPrototype: false }),
      fc.double(),
      fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, 1e21, -1e21, 2 ** 53 + 2),
    );
    fc.assert(
      fc.property(fc.constantFrom(...schemas.keys()), noises, (i, noise) => {
        const schema = schemas[i]!;
        for (const value of [noise, valueFor(i, noise)]) assert.equal(write(value, schema), interpreted(value, schema));
      }),
      { numRuns: 500 },
    );
  });
});

/** A value shaped like the `kind`th schema (so that most branches are taken), with `noise` in places. */
function valueFor(kind: number, noise: unknown): unknown {
  const number = typeof noise === 'number' ? noise : 12.5;
  const cell = {
    start: 'x',
    group: { model: 'm', user: null },
    cost: number,
    requests: 3,
    share: noise,
    anything: noise,
    flag: noise,
    'we"ird\\key\u2028': 5,
    extra: 1,
  };
  return [
    { rows: [cell, { ...cell, cost: 4, requests: noise }], totals: cell, generated_at: 'now', hidden: true },
    [{ n: number }, [1, 2.5, number], 7, 'text', null],
    { '10': 1, '09': number, other: 2 },
    { a: [1, number], b: [], c: undefined },
  ][kind];
}

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
