/**
 * Errors Fastify's router raises before any hook runs (a malformed percent-encoding in the
 * path, a path parameter over the length limit). Without this they would be answered with
 * Fastify's own body instead of the envelope.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { sendError } from './error-envelope.ts';

export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-trace-id', request.id);
  const systemMessage =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'A path parameter is longer than 100 characters'
      : error.code === 'FST_ERR_BAD_URL'
        ? 'The path is not a valid URL (malformed percent-encoding)'
        : error.message;
  sendError(request, reply, new AppError('INVALID_REQUEST', { message: 'Malformed request', systemMessage }));
}
