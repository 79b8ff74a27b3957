/**
 * What the OpenAPI document says about an operation beyond its route declaration. The error
 * answers that follow from the kind of route (authenticated or public) are derived here, so
 * that a new route cannot forget them, and only those a route can really give:
 * - an authenticated route: 401 (key missing or unusable), 500 and 503 (it reads the key from
 *   the database), 403 when a key can be refused for its scope or organization, 429 when the
 *   per-key rate limit is on;
 * - every route: 503 while the server shuts down (see the closing hook in app.ts).
 * Public routes say `security: []`; each error answer gets a description; operations without
 * a declared `operationId` get one from their summary.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifySchema, RouteOptions } from 'fastify';
import type { Access } from '../modules/auth/principal.ts';
import { ErrorEnvelope } from './error-envelope.ts';

/** Either header authenticates; the document lists both so generated clients can pick one. */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** Media types the route answers in besides JSON, with what each holds (the document lists them). */
    media?: Record<string, string>;
  }
}

const API_KEY_SECURITY: Array<Record<string, string[]>> = [{ ApiKey: [] }, { ApiKeyAlternative: [] }];

export interface OperationOptions {
  /** The per-key rate limit is on (RATE_LIMIT_PER_MINUTE > 0): authenticated routes can answer 429. */
  rateLimited: boolean;
}

type Responses = Record<string, TSchema>;

const DESCRIPTIONS: Record<number, string> = {
  400: 'A parameter or the body is invalid; nothing was written (INVALID_REQUEST)',
  401: 'No API key, or one that is unknown, paused, deactivated, deleted or expired',
  403: 'The key belongs to another organization, or lacks the scope this operation needs',
  404: 'What the request names does not exist',
  409: 'The request conflicts with the current state (CONFLICT)',
  413: 'The body is larger than the size limit (PAYLOAD_TOO_LARGE)',
  415: 'The body is not application/json (UNSUPPORTED_MEDIA_TYPE)',
  500: 'An unexpected failure; the trace_id finds it in the log (INTERNAL_ERROR)',
};
const RATE_LIMITED = 'Too many requests with this key (RATE_LIMIT_EXCEEDED); retry after Retry-After seconds';
const SPEND_LIMITED = 'A spend limit is reached (USAGE_LIMIT_EXCEEDED)';
const SPEND_OR_RATE_LIMITED = `${SPEND_LIMITED}, or too many requests with this key (RATE_LIMIT_EXCEEDED; retry after Retry-After seconds)`;
const UNAVAILABLE =
  'The database is unavailable, or the server is shutting down (SERVICE_UNAVAILABLE); retry after Retry-After seconds';
const SHUTTING_DOWN = 'The server is shutting down (SERVICE_UNAVAILABLE); retry after Retry-After seconds';

/** The route's schema as the document shows it; the route itself (validation, serialization) is not changed. */
export function documentedSchema(schema: FastifySchema, route: RouteOptions, options: OperationOptions): FastifySchema {
  const access = route.config?.access as Access | undefined;
  // Without a declared response, the answer is not JSON (a page, a script, metrics): a 200 with
  // no body schema (fastify-swagger writes no content for `type: 'null'`).
  const declared = (schema.response ?? { 200: { type: 'null', description: schema.summary } }) as Responses;
  const derived = derivedStatuses(access, route.url, options);
  const statuses = [...new Set([...Object.keys(declared).map(Number), ...derived])].sort((a, b) => a - b);
  const response: Responses = {};
  for (const status of statuses) {
    const body = declared[status] ?? Type.Ref(ErrorEnvelope);
    if (status < 400) {
      // A body schema without a description of its own: the summary says what the answer is.
      response[status] = body.description ? body : { ...body, 'x-response-description': schema.summary };
      const media = route.config?.media;
      if (status === 200 && media) response[status] = withMedia(response[status]!, media);
      continue;
    }
    const description = errorDescription(status, { access, declared: status in declared, options });
    response[status] = { ...body, description };
  }
  return {
    ...schema,
    ...(schema.operationId || !schema.summary ? {} : { operationId: operationIdFrom(String(schema.summary)) }),
    security: access ? API_KEY_SECURITY : [],
    response,
  } as FastifySchema;
}

/**
 * A JSON answer that a route can also give in other media types (`config.media`: type →
 * description), each a string: its JSON schema under application/json, the others beside it.
 */
function withMedia(body: TSchema, media: Record<string, string>): TSchema {
  const {
    description,
    'x-response-description': summary,
    ...schema
  } = body as TSchema & {
    'x-response-description'?: string;
  };
  return {
    description: description ?? summary,
    content: {
      'application/json': { schema },
      ...Object.fromEntries(
        Object.entries(media).map(([type, text]) => [type, { schema: Type.String({ description: text }) }]),
      ),
    },
  } as unknown as TSchema;
}

function derivedStatuses(access: Access | undefined, url: string, options: OperationOptions): number[] {
  if (!access) return [503];
  const refusable = !('authenticated' in access) || url.includes(':org_id');
  return [401, ...(refusable ? [403] : []), ...(options.rateLimited ? [429] : []), 500, 503];
}

function errorDescription(
  status: number,
  context: { access: Access | undefined; declared: boolean; options: OperationOptions },
): string {
  switch (status) {
    case 429:
      if (!context.declared) return RATE_LIMITED;
      return context.access && context.options.rateLimited ? SPEND_OR_RATE_LIMITED : SPEND_LIMITED;
    case 503:
      return context.access || context.declared ? UNAVAILABLE : SHUTTING_DOWN;
    default:
      return DESCRIPTIONS[status] ?? 'See error.code';
  }
}

const FILLER_WORDS = new Set(['a', 'an', 'the']);

/** `Get the price sheet` → `getPriceSheet`; parentheses are left out. */
export function operationIdFrom(summary: string): string {
  const words = summary
    .replace(/\([^)]*\)/g, ' ')
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word && !FILLER_WORDS.has(word.toLowerCase()));
  return words
    .map((word, i) => (i === 0 ? word.toLowerCase() : word[0]!.toUpperCase() + word.slice(1).toLowerCase()))
    .join('');
}
