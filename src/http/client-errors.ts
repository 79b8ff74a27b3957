/**
 * Requests Node's HTTP parser refuses before Fastify sees them: headers over the size limit
 * (431), a malformed request line or header (400), a request not received within the request
 * timeout (408). There is no request object, so the answer is written to the socket by hand,
 * in the same envelope and with a trace id like every other error, and the connection closed.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';
import { ERROR_INFO, envelopeOf } from './error-envelope.ts';
import { writeWithMoney } from './serializer.ts';

type ClientError = Error & { code?: string; reason?: string };

function toAppError(error: ClientError): AppError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new AppError('REQUEST_HEADERS_TOO_LARGE');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new AppError('PAYLOAD_TOO_LARGE', { systemMessage: 'Chunk extensions exceed the size limit' });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError('REQUEST_TIMEOUT');
    default:
      return new AppError('INVALID_REQUEST', {
        message: 'Malformed request',
        systemMessage: `The request is not valid HTTP: ${error.reason ?? 'parse error'}`,
      });
  }
}

export function clientErrorHandler(this: FastifyInstance, error: ClientError, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // Writing now would corrupt an answer already under way on this connection (as Node's own
  // handler, answer only when none has started).
  const inFlight = (socket as Socket & { _httpMessage?: http.ServerResponse })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const appError = toAppError(error);
  const status = ERROR_INFO[appError.code].status;
  const traceId = randomUUID();
  const body = writeWithMoney(envelopeOf(appError, traceId));
  this.log.info({ trace_id: traceId, status, client_error: error.code }, 'request refused by the HTTP parser');
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Trace-Id: ${traceId}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
    () => socket.destroy(),
  );
}
