/**
 * The text a request may carry (see src/text/storable-text.ts): every string in its body, query
 * and path parameters, values and keys alike, must be well-formed Unicode without NUL, and a JSON
 * body must be valid UTF-8, as decoding would replace invalid bytes with U+FFFD. A request that
 * breaks this is a 400 naming the field, before anything reads it.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { invalidRequest } from '../errors.ts';
import { nestedTooDeep, TOO_DEEP } from '../text/json-nesting.ts';
import { TEXT_REASONS, unstorableText } from '../text/storable-text.ts';

export function registerTextChecks(app: FastifyInstance): void {
  // Fastify's own JSON parser, given the body only once it is known to be valid UTF-8.
  const { onProtoPoisoning = 'error', onConstructorPoisoning = 'error' } = app.initialConfig;
  const parseJson = app.getDefaultJsonParser(onProtoPoisoning, onConstructorPoisoning);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) {
      done(invalidRequest('Malformed request', [{ field: 'body', reason: TEXT_REASONS.utf8 }]), undefined);
      return;
    }
    const text = bytes.toString('utf8');
    if (nestedTooDeep(text)) {
      done(invalidRequest('Malformed request', [{ field: 'body', reason: TOO_DEEP }]), undefined);
      return;
    }
    parseJson(request, text, done);
  });

  app.addHook('preValidation', async (request) => {
    const errors = [
      ...unstorableText(request.params, 'params'),
      ...unstorableText(request.query, 'query'),
      ...unstorableText(request.body, 'body'),
    ];
    if (errors.length > 0) throw invalidRequest('Invalid request', errors);
  });
}
