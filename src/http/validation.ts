/**
 * Request validation. Path, query and headers are coerced from text ("11" → 11); bodies are
 * not, so `"neurons": true` or `"neurons": "5"` is a 400 rather than a silent 1 or 5. Both
 * report every problem at once, so a bad batch lists each bad event.
 */
import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, useDefaults: true, strict: false, ...options });
  addFormats.default(ajv, ['date-time', 'date']);
  return ajv;
}

export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const coercing = makeAjv({ coerceTypes: true });
  const strict = makeAjv({ coerceTypes: false });
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object);
}
