/**
 * The closed list of error codes the API can answer with. Services throw `AppError` with a
 * code; `http/error-envelope.ts` alone knows how a code maps to an HTTP status.
 */

export const ERROR_CODES = [
  'INVALID_REQUEST',
  'AUTHENTICATION_REQUIRED',
  'INVALID_API_KEY',
  'API_KEY_DEACTIVATED',
  'API_KEY_EXPIRED',
  'API_KEY_PAUSED',
  'ORGANIZATION_ACCESS_DENIED',
  'INSUFFICIENT_PERMISSIONS',
  'API_KEY_NOT_FOUND',
  'ORGANIZATION_NOT_FOUND',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'REQUEST_TIMEOUT',
  'REQUEST_HEADERS_TOO_LARGE',
  'RATE_LIMIT_EXCEEDED',
  'USAGE_LIMIT_EXCEEDED',
  'INTERNAL_ERROR',
  'SERVICE_UNAVAILABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface AppErrorOptions {
  /** Human-readable summary; each code has a default. */
  message?: string;
  /** The precise reason, for developers (e.g. which parameter was wrong). */
  systemMessage?: string;
  details?: Record<string, unknown>;
  /** Overrides the code's default `type` where a documented response uses another one. */
  type?: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly systemMessage: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly type: string | undefined;

  constructor(code: ErrorCode, options: AppErrorOptions = {}) {
    super(options.message ?? code);
    this.name = 'AppError';
    this.code = code;
    this.systemMessage = options.systemMessage;
    this.details = options.details;
    this.type = options.type;
    if (options.message === undefined) this.message = '';
  }
}

/** One reason an input was rejected, as listed in `details.errors` of a 400. */
export interface FieldError {
  field: string;
  reason: string;
  /** Position in a batch, for batch endpoints. */
  index?: number;
}

export function invalidRequest(message: string, errors: FieldError[]): AppError {
  const systemMessage = errors.map((e) => `${e.field} ${e.reason}`).join('; ');
  return new AppError('INVALID_REQUEST', { message, systemMessage, details: { errors } });
}
