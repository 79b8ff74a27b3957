/**
 * Rejects NUL characters (U+0000) anywhere in a request's body, query or path parameters with
 * a 400 that names the field. PostgreSQL cannot store NUL in text (SQLite can), so without
 * this the same input would be stored on one engine and fail with a 500 on the other.
 */
import type { FastifyInstance } from 'fastify';
import { type FieldError, invalidRequest } from '../errors.ts';

/**
 * Whether any string (value or key) under `root` contains NUL. Every request runs it over its
 * whole body, so it allocates nothing per value; fieldsWithNul names the fields only when this
 * finds one. Iterative, as bodies may nest deeply.
 */
function containsNul(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (value !== null && typeof value === 'object') {
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (key.includes('\u0000')) return true;
        stack.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/** Paths of the strings (values or keys) that contain NUL; iterative, as bodies may nest deeply. */
function fieldsWithNul(root: unknown, rootName: string): FieldError[] {
  if (!containsNul(root)) return [];
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
