/**
 * Response serialization driven by the route's response schema. It writes only the declared
 * properties (nothing internal can leak), and writes a `number` (as opposed to `integer`) with
 * a decimal point: the Freddy API's clients read `"totalCost": 6250.0` as a float, and
 * JSON.stringify would print `6250`.
 */
import type { FastifySerializerCompiler } from 'fastify';
import { ChfAmount } from '../money/chf.ts';

/**
 * The order to write an object's properties in, when it is not the order of its `properties`:
 * a JS object lists integer-like keys ("10") before the others ("09"), whatever the order they
 * were declared in.
 */
export const PROPERTY_ORDER_KEYWORD = 'x-property-order';

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  [PROPERTY_ORDER_KEYWORD]?: string[];
  patternProperties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
}

type Writer = (value: unknown) => string;

/**
 * Each route's response schema is compiled once into a writer: nested writers that know their
 * properties, keys and branches (an object's is a generated function), so a response of a few
 * thousand values is not a walk of the schema for each of them.
 */
export const serializerCompiler: FastifySerializerCompiler<unknown> = ({ schema }) => compileWriter(schema);

/** JSON of `value` as `schema` declares it (see compileWriter). */
export function write(value: unknown, schema: unknown): string {
  return compileWriter(schema)(value);
}

/** null and undefined are `null` wherever they are; everything else is up to `writer`. */
const orNull =
  (writer: Writer): Writer =>
  (value) =>
    value === null || value === undefined ? 'null' : writer(value);

const stringify: Writer = orNull((value) => JSON.stringify(value));

export function compileWriter(schemaLike: unknown): Writer {
  const schema = schemaLike as Schema | undefined;
  if (!schema) return stringify;
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    // The first branch the value's type matches; none: as JSON.stringify writes it.
    const compiled = branches.map((branch) => ({ matches: matcher(branch), write: compileWriter(branch) }));
    return orNull((value) => (compiled.find((branch) => branch.matches(value))?.write ?? stringify)(value));
  }
  switch (schema.type) {
    case 'number':
      return orNull((value) =>
        typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 1e21
          ? `${value}.0`
          : JSON.stringify(value),
      );
    case 'integer':
      // What JSON.stringify writes for a finite number, without its generic walk.
      return orNull((value) =>
        typeof value === 'number' && Number.isFinite(value) ? String(value) : JSON.stringify(value),
      );
    case 'object':
      return orNull(objectWriter(schema));
    case 'array': {
      const item = compileWriter(schema.items);
      return orNull((value) => {
        if (!Array.isArray(value)) return 'null';
        // One string grown item by item: an array of the items' strings, joined, cost a third more.
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + item(value[i]);
        return `${out}]`;
      });
    }
    default:
      return stringify;
  }
}

const writeNumber = compileWriter({ type: 'number' });

/**
 * JSON of data that has no schema (the error envelope), except that money amounts
 * (`ChfAmount`) are written as a `Type.Number` is: `5.0`, not `5`.
 */
export function writeWithMoney(value: unknown): string {
  if (value instanceof ChfAmount) return writeNumber(value.toJSON());
  if (Array.isArray(value))
    return `[${value.map((item) => (item === undefined ? 'null' : writeWithMoney(item))).join(',')}]`;
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) {
    return JSON.stringify(value) ?? 'null';
  }
  const parts: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) parts.push(`${JSON.stringify(key)}:${writeWithMoney(item)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * The JavaScript expression that writes `item` (never undefined) as `schema` declares it, and
 * the writer it calls, if any: strings, integers and numbers are written inline, so that an
 * object of a few of them is one function call, not one per property.
 */
function inlineWrite(schema: Schema | undefined, writers: Writer[]): string {
  const scalar = scalarWrite(schema);
  if (scalar) return scalar;
  writers.push(compileWriter(schema));
  return `writers[${writers.length - 1}](item)`;
}

/** What `typeof` says of a value each scalar type of a schema matches (see matcher). */
const TYPEOF: Record<string, string> = { string: 'string', boolean: 'boolean', number: 'number', integer: 'number' };

/** How a scalar type writes an `item` of its `typeof` (see compileWriter). */
const SCALAR_WRITE: Record<string, string> = {
  string: 'JSON.stringify(item)',
  boolean: 'JSON.stringify(item)',
  integer: "(Number.isFinite(item) ? '' + item : JSON.stringify(item))",
  number: "(Number.isInteger(item) && Math.abs(item) < 1e21 ? item + '.0' : JSON.stringify(item))",
};

/**
 * A scalar type, or a union of scalar types and null (`string | null`, say), written inline: for
 * a union, the first branch whose type the value has, as compileWriter's union picks it, chosen
 * by `typeof` rather than by trying each branch in turn; a value of no such type as
 * JSON.stringify writes it. Undefined for any other schema.
 */
function scalarWrite(schema: Schema | undefined): string | undefined {
  if (!schema) return undefined;
  const branches = schema.anyOf ?? schema.oneOf ?? [schema];
  const byTypeof = new Map<string, string>();
  for (const branch of branches) {
    if (branch.anyOf ?? branch.oneOf) return undefined;
    const type = branch.type;
    if (type === 'null') continue;
    if (typeof type !== 'string' || !(type in SCALAR_WRITE)) return undefined;
    if (!byTypeof.has(TYPEOF[type]!)) byTypeof.set(TYPEOF[type]!, SCALAR_WRITE[type]!);
  }
  const cases = [...byTypeof].map(([kind, write]) => `typeof item === '${kind}' ? ${write} : `).join('');
  return `(item === null ? 'null' : ${cases}JSON.stringify(item))`;
}

/**
 * An object's declared properties, in their order, or every property of a record's. Declared
 * properties are written by one generated function (the keys are the schema's own, each quoted
 * with JSON.stringify), which V8 runs several times faster than a closure per property.
 */
function objectWriter(schema: Schema): Writer {
  const properties = schema.properties;
  if (properties) {
    const writers: Writer[] = [];
    const lines = (schema[PROPERTY_ORDER_KEYWORD] ?? Object.keys(properties)).map((key) => {
      const quoted = JSON.stringify(key);
      return `item = value[${quoted}];
  if (item !== undefined) out += (out === '' ? '' : ',') + ${JSON.stringify(`${quoted}:`)} + ${inlineWrite(properties[key], writers)};`;
    });
    const body = `return function writeObject(value) {
  let out = '';
  let item;
  ${lines.join('\n  ')}
  return '{' + out + '}';
};`;
    return new Function('writers', body)(writers) as Writer;
  }
  const rest =
    typeof schema.additionalProperties === 'object'
      ? schema.additionalProperties
      : Object.values(schema.patternProperties ?? {})[0];
  if (!rest) return stringify;
  const writers: Writer[] = [];
  const body = `return function writeRecord(value) {
  let out = '';
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const item = value[keys[i]];
    if (item !== undefined) out += (out === '' ? '' : ',') + JSON.stringify(keys[i]) + ':' + ${inlineWrite(rest, writers)};
  }
  return '{' + out + '}';
};`;
  return new Function('writers', body)(writers) as Writer;
}

/** Whether a value (not null) is of one of the schema's types; a schema without a type takes any. */
function matcher(schema: Schema): (value: unknown) => boolean {
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0) return () => true;
  return (value) =>
    types.some((type) => {
      switch (type) {
        case 'null':
          return value === null;
        case 'number':
        case 'integer':
          return typeof value === 'number';
        case 'array':
          return Array.isArray(value);
        case 'object':
          return typeof value === 'object' && value !== null && !Array.isArray(value);
        default:
          return typeof value === type;
      }
    });
}
