/**
 * Request validation. Path, query and headers are coerced from text ("11" → 11); bodies are
 * not, so `"neurons": true` or `"neurons": "5"` is a 400 rather than a silent 1 or 5. Both
 * report every problem at once, so a bad batch lists each bad event.
 */
import { Ajv, type Options, type SchemaValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { latestEventYear } from '../time/calendar.ts';
import { CONTRACT_LAST_YEAR, LATEST_YEAR_KEYWORD } from './common.schemas.ts';

function makeAjv(options: Options, clock: () => number): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, useDefaults: true, strict: false, ...options });
  addFormats.default(ajv, ['date-time', 'date']);
  // A year parameter's upper bound moves with the clock: the latest year an event can be dated in.
  const latestYear: SchemaValidateFunction = (enabled: boolean, year: number) => {
    const limit = Math.max(CONTRACT_LAST_YEAR, latestEventYear(clock()));
    if (!enabled || year <= limit) return true;
    latestYear.errors = [{ keyword: 'maximum', message: `must be <= ${limit}`, params: { comparison: '<=', limit } }];
    return false;
  };
  ajv.addKeyword({
    keyword: LATEST_YEAR_KEYWORD,
    type: 'number',
    schemaType: 'boolean',
    errors: true,
    validate: latestYear,
  });
  return ajv;
}

/** `clock`: the app's current time, for bounds that move with it. */
export function validatorCompiler(clock: () => number): FastifySchemaCompiler<unknown> {
  const coercing = makeAjv({ coerceTypes: true }, clock);
  const strict = makeAjv({ coerceTypes: false }, clock);
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object);
}
