/**
 * Validation against the route schemas, and how its failures read. Path, query and headers are
 * coerced from text ("11" → 11); bodies are not, so `"neurons": true` or `"neurons": "5"` is a
 * 400 rather than a silent 1 or 5. Every problem is reported at once, so a bad batch lists each
 * bad event. Input that does not come through a route (the CLI import, a queue) is checked by
 * bodyValidator with the same settings and the same messages.
 */
import type { TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type Options, type SchemaValidateFunction, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { FieldError } from '../errors.ts';
import { latestEventYear } from '../time/calendar.ts';
import { CONTRACT_LAST_YEAR, LATEST_YEAR_KEYWORD } from './common.schemas.ts';

function makeAjv(options: Options, clock: () => number): Ajv {
  // The schemas are the routes' own, checked by the OpenAPI tests: not checked again at every start.
  const ajv = new Ajv({
    allErrors: true,
    verbose: true,
    useDefaults: true,
    strict: false,
    validateSchema: false,
    ...options,
  });
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

/**
 * The route validators. Each is compiled when first used, or by warmUp(), not while the app is
 * built: compiling all of them takes a good part of a second, which a process that has just
 * started should spend answering. `clock`: the app's current time, for bounds that move with it.
 */
export function validatorCompiler(clock: () => number): {
  compiler: FastifySchemaCompiler<unknown>;
  /** Compiles, one at a time between other work, the validators not compiled yet. */
  warmUp(): void;
  /** How many validators are not compiled yet. */
  pending(): number;
} {
  const coercing = makeAjv({ coerceTypes: true }, clock);
  const strict = makeAjv({ coerceTypes: false }, clock);
  const pending = new Set<() => void>();
  const compiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
    let validate: ValidateFunction | undefined;
    const compile = () => {
      validate ??= (httpPart === 'body' ? strict : coercing).compile(schema as object);
      pending.delete(compile);
      return validate;
    };
    pending.add(compile);
    const lazy = (data: unknown) => {
      const check = validate ?? compile();
      const valid = check(data);
      lazy.errors = check.errors;
      return valid;
    };
    lazy.errors = null as ValidateFunction['errors'];
    return lazy;
  };
  const warmUp = () => {
    const next = pending.values().next();
    if (next.done) return;
    next.value();
    setImmediate(warmUp).unref();
  };
  return { compiler, warmUp, pending: () => pending.size };
}

/** A strict (body) validator of `schema`, for input that does not come through a route. */
export function bodyValidator<T>(schema: TSchema): (value: unknown) => { value: T } | { errors: FieldError[] } {
  // Compiled on first use: modules make their validators when loaded, and a process that never
  // validates such input should not pay for it.
  let check: ValidateFunction<T> | undefined;
  return (value) => {
    check ??= makeAjv({ coerceTypes: false }, Date.now).compile<T>(schema);
    return check(value) ? { value } : { errors: fieldErrors(check.errors ?? [], 'body') };
  };
}

type Issue = ErrorObject & { parentSchema?: unknown };

/** What people read for a format the schemas use. */
const FORMAT_REASONS: Record<string, string> = {
  'date-time': 'must be an ISO-8601 time with a zone, e.g. 2026-12-01T09:30:00Z',
  date: 'must be a date, YYYY-MM-DD',
};

/**
 * Validation failures as the fields they concern (`events[3].neurons`) and why, in words for
 * people; the item's index of a batch (`events/3/…`) too. `context` names the part of the
 * request when the failure is about the whole of it.
 */
export function fieldErrors(raw: readonly ErrorObject[], context: string): FieldError[] {
  // A key that breaks `propertyNames` is reported by its own issue, which names the key; the
  // summary issue ("property name must be valid") would only repeat it.
  const issues = collapseAlternatives(raw as Issue[]).filter((i) => i.keyword !== 'propertyNames');
  return issues.map((issue) => {
    const segments = issue.instancePath.split('/').filter(Boolean);
    const missing = (issue.params as { missingProperty?: string }).missingProperty;
    if (missing) segments.push(missing);
    const field = segments.length ? formatPath(segments) : context;
    const format =
      issue.keyword === 'format' ? FORMAT_REASONS[(issue.params as { format?: string }).format ?? ''] : undefined;
    const reason = missing
      ? 'is required'
      : issue.keyword === 'anyOf'
        ? `must be ${(issue.parentSchema as { description?: string } | undefined)?.description ?? 'of an allowed type'}`
        : (format ?? issue.message ?? 'is invalid');
    const key = (issue as { propertyName?: string }).propertyName;
    const index = segments.length >= 2 && /^\d+$/.test(segments[1]!) ? Number(segments[1]) : undefined;
    const named = key === undefined ? reason : `has a key ${JSON.stringify(key)} that ${reason}`;
    return index === undefined ? { field, reason: named } : { index, field, reason: named };
  });
}

/** Where a value matches none of a union's branches, report that once instead of once per branch. */
function collapseAlternatives(issues: Issue[]): Issue[] {
  const unions = new Set(issues.filter((i) => i.keyword === 'anyOf').map((i) => i.instancePath));
  return issues.filter((i) => i.keyword === 'anyOf' || !unions.has(i.instancePath));
}

function formatPath(segments: string[]): string {
  return segments.reduce((path, s) => (/^\d+$/.test(s) ? `${path}[${s}]` : path ? `${path}.${s}` : s), '');
}
