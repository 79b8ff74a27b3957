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

export const serializerCompiler: FastifySerializerCompiler<unknown> =
  ({ schema }) =>
  (data) =>
    write(data, schema as Schema);

export function write(value: unknown, schemaLike: unknown): string {
  const schema = schemaLike as Schema | undefined;
  if (value === null || value === undefined) return 'null';
  if (!schema) return JSON.stringify(value);
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return write(value, branches.find((branch) => matches(value, branch)) ?? {});
  switch (schema.type) {
    case 'number':
      return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 1e21
        ? `${value}.0`
        : JSON.stringify(value);
    case 'object':
      return writeObject(value as Record<string, unknown>, schema);
    case 'array':
      return Array.isArray(value) ? `[${value.map((item) => write(item, schema.items)).join(',')}]` : 'null';
    default:
      return JSON.stringify(value);
  }
}

/**
 * JSON of data that has no schema (the error envelope), except that money amounts
 * (`ChfAmount`) are written as a `Type.Number` is: `5.0`, not `5`.
 */
export function writeWithMoney(value: unknown): string {
  if (value instanceof ChfAmount) return write(value.toJSON(), { type: 'number' });
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

function writeObject(value: Record<string, unknown>, schema: Schema): string {
  const parts: string[] = [];
  if (schema.properties) {
    for (const key of schema[PROPERTY_ORDER_KEYWORD] ?? Object.keys(schema.properties)) {
      if (value[key] !== undefined) parts.push(`${JSON.stringify(key)}:${write(value[key], schema.properties[key])}`);
    }
    return `{${parts.join(',')}}`;
  }
  const rest =
    typeof schema.additionalProperties === 'object'
      ? schema.additionalProperties
      : Object.values(schema.patternProperties ?? {})[0];
  if (!rest) return JSON.stringify(value);
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) parts.push(`${JSON.stringify(key)}:${write(item, rest)}`);
  }
  return `{${parts.join(',')}}`;
}

function matches(value: unknown, schema: Schema): boolean {
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0) return true;
  return types.some((type) => {
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
