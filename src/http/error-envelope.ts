/**
 * The one error envelope of every non-2xx answer, and the code → status map. Validation
 * failures, unknown routes, body-parser errors and unexpected faults all end up here.
 */

import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../errors.ts';
import { databaseUnavailable } from '../storage/failures.ts';
import { isoSeconds } from '../time/calendar.ts';
import { writeWithMoney } from './serializer.ts';
import { fieldErrors } from './validation.ts';

interface CodeInfo {
  status: number;
  type: string;
  message: string;
  systemMessage: string;
  /** Sent as Retry-After: when trying again is worth it. */
  retryAfterSeconds?: number;
}

export const ERROR_INFO: Record<ErrorCode, CodeInfo> = {
  INVALID_REQUEST: {
    status: 400,
    type: 'validation_error',
    message: 'Invalid request',
    systemMessage: 'Invalid request',
  },
  AUTHENTICATION_REQUIRED: {
    status: 401,
    type: 'client_error',
    message: 'Authentication required',
    systemMessage: 'No API key provided',
  },
  INVALID_API_KEY: {
    status: 401,
    type: 'client_error',
    message: 'Invalid API key',
    systemMessage: 'Unknown API key',
  },
  API_KEY_DEACTIVATED: {
    status: 401,
    type: 'client_error',
    message: 'API key is deactivated',
    systemMessage: 'API key has been deactivated',
  },
  API_KEY_PAUSED: {
    status: 401,
    type: 'client_error',
    message: 'API key is paused',
    systemMessage: 'API key has been paused; activate it to use it again',
  },
  API_KEY_EXPIRED: {
    status: 401,
    type: 'client_error',
    message: 'API key has expired',
    systemMessage: 'API key expired',
  },
  ORGANIZATION_ACCESS_DENIED: {
    status: 403,
    type: 'authorization_error',
    message: 'Access denied to organization',
    systemMessage: "API key doesn't belong to organization",
  },
  INSUFFICIENT_PERMISSIONS: {
    status: 403,
    type: 'authorization_error',
    message: 'Insufficient permissions',
    systemMessage: 'API key lacks the required scope',
  },
  API_KEY_NOT_FOUND: {
    status: 404,
    type: 'client_error',
    message: 'API key not found',
    systemMessage: 'API key not found',
  },
  ORGANIZATION_NOT_FOUND: {
    status: 404,
    type: 'client_error',
    message: 'Organization not found',
    systemMessage: 'Organization not found',
  },
  NOT_FOUND: { status: 404, type: 'client_error', message: 'Not found', systemMessage: 'No such route' },
  CONFLICT: {
    status: 409,
    type: 'client_error',
    message: 'Conflict',
    systemMessage: 'The request conflicts with the current state',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    type: 'client_error',
    message: 'Payload too large',
    systemMessage: 'Request body exceeds the size limit',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    type: 'client_error',
    message: 'Unsupported media type',
    systemMessage: 'Send the body as application/json',
  },
  REQUEST_TIMEOUT: {
    status: 408,
    type: 'client_error',
    message: 'Request timeout',
    systemMessage: 'The request was not received in time',
  },
  REQUEST_HEADERS_TOO_LARGE: {
    status: 431,
    type: 'client_error',
    message: 'Request header fields too large',
    systemMessage: 'The request headers exceed the size limit',
  },
  RATE_LIMIT_EXCEEDED: {
    status: 429,
    type: 'rate_limit_error',
    message: 'Rate limit exceeded',
    systemMessage: 'Too many requests for this API key',
  },
  USAGE_LIMIT_EXCEEDED: {
    status: 429,
    type: 'usage_limit_error',
    message: 'Usage limit exceeded',
    systemMessage: 'Monthly spend limit reached',
  },
  INTERNAL_ERROR: {
    status: 500,
    type: 'server_error',
    message: 'An unexpected error occurred',
    systemMessage: 'Internal server error',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    type: 'server_error',
    message: 'Service unavailable',
    systemMessage: 'The service cannot answer right now',
    // Shutting down, a lost database connection, a lock held past the time limit: each passes
    // or is taken over by another connection or replica within moments.
    retryAfterSeconds: 1,
  },
};

export const ErrorEnvelope = Type.Object(
  {
    success: Type.Literal(false),
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      system_message: Type.String(),
      type: Type.String(),
      status: Type.Integer(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      trace_id: Type.String(),
      timestamp: Type.String({ format: 'date-time' }),
    }),
  },
  { $id: 'ErrorEnvelope', description: 'Every non-2xx answer' },
);

/**
 * Response schemas for the errors a route can answer with, for its declaration. A route that can
 * fail internally (500) can also be unavailable (503: shutting down, the database connection
 * lost or its time limit reached), so 503 comes with 500. The OpenAPI document adds what follows
 * from the route's access on its own (401, 403, 429, 500, 503: see http/openapi-operations.ts).
 */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const all = statuses.includes(500) ? [...new Set([...statuses, 503])] : statuses;
  return Object.fromEntries(all.map((status) => [status, Type.Ref(ErrorEnvelope)]));
}

/** The envelope of `error`, as an object for a writer that knows money (writeWithMoney). */
export function envelopeOf(error: AppError, traceId: string) {
  const info = ERROR_INFO[error.code];
  return {
    success: false,
    error: {
      code: error.code,
      message: error.message || info.message,
      system_message: error.systemMessage ?? info.systemMessage,
      type: error.type ?? info.type,
      status: info.status,
      ...(error.details ? { details: error.details } : {}),
      trace_id: traceId,
      timestamp: isoSeconds(Date.now()),
    },
  };
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  const info = ERROR_INFO[error.code];
  const body = envelopeOf(error, String(request.id));
  if (info.retryAfterSeconds !== undefined) reply.header('retry-after', info.retryAfterSeconds);
  // Not through the route's response serializer, so that no route can drop a field of the
  // envelope; money in `details` is still written as money is everywhere else.
  return reply.code(info.status).type('application/json; charset=utf-8').serializer(writeWithMoney).send(body);
}

/** The answer for a path that names nothing we serve. */
export function notFound(request: Pick<FastifyRequest, 'method' | 'url'>): AppError {
  return new AppError('NOT_FOUND', { systemMessage: `No route ${request.method} ${request.url.split('?')[0]}` });
}

type RequestLine = Pick<FastifyRequest, 'method' | 'url'> & Partial<Pick<FastifyRequest, 'headers'>>;

/** Maps anything thrown while handling a request to an AppError. */
export function toAppError(error: unknown, request: RequestLine): AppError {
  if (error instanceof AppError) return error;
  const unavailable = databaseUnavailable(error);
  if (unavailable) return unavailable;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    return new AppError('INVALID_REQUEST', validationMessage(fastifyError));
  }
  // The /docs assets' file server refuses paths that leave its folder or are not canonical
  // (`..`, `//`, `./`, backslashes). To the client that is simply no such file.
  if (fastifyError.code === 'FST_STATIC_FORBIDDEN_PATH') return notFound(request);
  switch (fastifyError.statusCode) {
    case 413:
      return new AppError('PAYLOAD_TOO_LARGE', { systemMessage: fastifyError.message });
    case 415:
      return new AppError('UNSUPPORTED_MEDIA_TYPE', { systemMessage: unsupportedMediaType(request.headers) });
    case 400:
      // Body-parser failures: malformed JSON, empty JSON body, bad content-length.
      return new AppError('INVALID_REQUEST', {
        message: 'Malformed request',
        systemMessage: fastifyError.message,
      });
    case 408:
    case 503:
      return new AppError('SERVICE_UNAVAILABLE', { systemMessage: 'Request timed out' });
    default:
      // Another client error a library raised (the file server's 412 or 416 for a failed
      // precondition or range): the request's fault, not ours, whatever its status.
      if (isClientError(fastifyError.statusCode)) {
        return new AppError('INVALID_REQUEST', { message: 'Malformed request', systemMessage: fastifyError.message });
      }
      return new AppError('INTERNAL_ERROR');
  }
}

/** Says what the body must be, and what was sent instead (cut short: it is the client's text). */
function unsupportedMediaType(headers: RequestLine['headers']): string {
  const sent = headers?.['content-type'];
  const what = sent ? `Content-Type ${JSON.stringify(sent.slice(0, 100))}` : 'no Content-Type';
  return `The body must be JSON, sent with Content-Type: application/json; this request has ${what}`;
}

function isClientError(status: unknown): boolean {
  return typeof status === 'number' && status >= 400 && status < 500;
}

const CONTEXT_MESSAGES: Record<string, string> = {
  querystring: 'Invalid query parameters',
  params: 'Invalid path parameters',
  body: 'Invalid request body',
  headers: 'Invalid headers',
};

function validationMessage(error: FastifyError) {
  const context = error.validationContext ?? 'body';
  const errors = fieldErrors(error.validation ?? [], context);
  return {
    message: CONTEXT_MESSAGES[context] ?? 'Invalid request',
    systemMessage: errors.map((e) => `${e.field} ${e.reason}`).join('; ') || (error.message ?? 'Invalid request'),
    details: { errors },
  };
}
