/**
 * Rejects NUL characters (U+0000) anywhere in a request's body, query or path parameters with
 * a 400 that names the field. PostgreSQL cannot store NUL in text (SQLite can), so without
 * this the same input would be stored on one engine and fail with a 500 on the other.
 */
import type { FastifyInstance } from 'fastify';
import { type FieldError, invalidRequest } from '../errors.ts';

/** Paths of the strings (values or keys) that contain NUL; iterative, as bodies may nest deeply. */
export function fieldsWithNul(root: unknown, rootName: string): FieldError[] {
  const found: FieldError[] = [];
  const stack: Array<[unknown, string]> = [[root, rootName]];
  while (stack.length > 0 && found.length < 20) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) found.push({ field: path, reason: 'must not contain NUL characters' });
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${path}[${i}]`]);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key.includes('\u0000')) found.push({ field: path, reason: 'must not contain keys with NUL characters' });
        stack.push([child, path === rootName ? key : `${path}.${key}`]);
      }
    }
  }
  return found;
}

export function registerNulCheck(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const errors = [
      ...fieldsWithNul(request.params, 'params'),
      ...fieldsWithNul(request.query, 'query'),
      ...fieldsWithNul(request.body, 'body'),
    ];
    if (errors.length > 0) throw invalidRequest('Invalid request', errors);
  });
}
