/** Generators of hostile input for the fuzzing suite (fast-check arbitraries and fixed payloads). */
import fc from 'fast-check';

const NASTY_STRINGS = [
  'NaN',
  'Infinity',
  '-Infinity',
  '-1',
  '-0',
  '1.5',
  '0.0000000001',
  '1e309',
  '-1e309',
  '9007199254740993',
  '99999999999999999999999999999999',
  '0x10',
  '1_000',
  ' 12 ',
  '',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  "' OR '1'='1",
  "'; DROP TABLE usage_events; --",
  '1; DELETE FROM api_keys',
  '" OR ""="',
  '$1',
  '\\',
  '%',
  '%zz',
  '%ff%fe',
  '..',
  '../../etc/passwd',
  '__proto__',
  'constructor',
  'prototype',
  'org_',
  'org_abc123',
  'apikey_x',
  `org_${'a'.repeat(300)}`,
  '\u0000',
  '\ud800',
  '😀',
  'é',
  '2025-13-01T00:00:00Z',
  '2025-02-30T00:00:00Z',
  '+275760-09-13T00:00:00Z',
];

/** Strings a careless parser would misread: numbers in disguise, SQL, paths, odd Unicode. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.bigInt()).map(String) },
);

/** Numbers that are too big, negative, fractional or not finite (JSON writes the last as null). */
const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    -1,
    -0,
    0.5,
    1.5,
    2 ** 53,
    2 ** 53 + 2,
    2 ** 63,
    1e21,
    1e308,
    -1e308,
    Number.MAX_VALUE,
    Number.EPSILON,
  ),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double(),
);

const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
);

/** Any JSON value, with object keys drawn partly from prototype-pollution names. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileScalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc
      .array(
        fc.tuple(
          fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'events', 'name'), fc.string()),
          tie('value'),
        ),
        {
          maxLength: 4,
        },
      )
      .map(ownProperties),
  ),
})).value;

/** An object whose keys are own enumerable properties, `__proto__` included, so JSON.stringify writes them. */
function ownProperties(entries: Array<[string, unknown]>): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return object;
}

/** Every path (keys and indices) to a value inside `value`, the root included. */
function pathsOf(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const paths = [prefix];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) paths.push(...pathsOf(v, [...prefix, i]));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) paths.push(...pathsOf(v, [...prefix, k]));
  }
  return paths;
}

function replaceAt(value: unknown, path: Array<string | number>, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? replaceAt(v, rest, replacement) : v));
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]): [string, unknown] => [
    k,
    k === head ? replaceAt(v, rest, replacement) : v,
  ]);
  return ownProperties(entries);
}

/** A valid body with one value replaced by something hostile, or one hostile key added next to it. */
export function mutatedBody(valid: unknown): fc.Arbitrary<unknown> {
  const paths = pathsOf(valid);
  const objectPaths = paths.filter((p) => {
    const target = p.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], valid);
    return target !== null && typeof target === 'object' && !Array.isArray(target);
  });
  return fc.oneof(
    fc
      .tuple(fc.nat(), fc.oneof(hostileScalar, hostileJson))
      .map(([i, h]) => replaceAt(valid, paths[i % paths.length]!, h)),
    fc
      .tuple(fc.nat(), fc.constantFrom('__proto__', 'constructor', 'prototype', 'extra'), hostileJson)
      .map(([i, key, h]) => {
        const path = objectPaths[i % objectPaths.length]!;
        const target = path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], valid);
        return replaceAt(valid, path, ownProperties([...Object.entries(target as object), [key, h]]));
      }),
  );
}

/** Fixed prototype-pollution bodies built around a valid one, as raw JSON text. */
export function pollutionPayloads(valid: unknown): string[] {
  const inner = JSON.stringify(valid).slice(1, -1);
  const comma = inner ? `${inner},` : '';
  return [
    `{${comma}"__proto__":{"polluted":"yes","isAdmin":true}}`,
    `{${comma}"constructor":{"prototype":{"polluted":"yes"}}}`,
    `{"__proto__":{"polluted":"yes"},${inner}}`,
    `{${comma}"events":[{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"polluted":1}}}]}`,
  ];
}
