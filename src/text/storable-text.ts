/**
 * Text that can be stored as sent: well-formed Unicode without NUL. PostgreSQL cannot store NUL
 * in text (SQLite can). A lone UTF-16 surrogate ("a\ud800") is stored as U+FFFD by both engines,
 * so that strings that differ in a request ("a\ud800", "a\ud801") would become equal in storage,
 * and one event would pass for a retry of another. The HTTP API (src/http/text-input.ts), the
 * CLI import and the ingestion service apply this rule with the same reasons.
 */
import type { FieldError } from '../errors.ts';

export const TEXT_REASONS = {
  nul: 'must not contain NUL characters',
  surrogate: 'must be well-formed Unicode (no lone surrogates)',
  keyNul: 'must not contain keys with NUL characters',
  keySurrogate: 'must not contain keys that are not well-formed Unicode',
  utf8: 'must be valid UTF-8',
} as const;

export const isStorableText = (text: string) => text.isWellFormed() && !text.includes('\u0000');

/** Why a string that is not storable is not. */
export const textReason = (text: string) => (text.isWellFormed() ? TEXT_REASONS.nul : TEXT_REASONS.surrogate);

/**
 * Whether any string (value or key) under `root` cannot be stored as sent. Every request runs it
 * over its whole body, so it allocates nothing per value; unstorableText names the fields only
 * when this finds one. Iterative, as bodies may nest deeply.
 */
function holdsUnstorableText(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (!isStorableText(value)) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (value !== null && typeof value === 'object') {
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (!isStorableText(key)) return true;
        stack.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/** Paths of the strings (values or keys) that cannot be stored as sent, at most 20, in document order. */
export function unstorableText(root: unknown, rootName: string): FieldError[] {
  if (!holdsUnstorableText(root)) return [];
  const found: FieldError[] = [];
  const stack: Array<[unknown, string]> = [[root, rootName]];
  while (stack.length > 0 && found.length < 20) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) found.push({ field: path, reason: TEXT_REASONS.nul });
      if (!value.isWellFormed()) found.push({ field: path, reason: TEXT_REASONS.surrogate });
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], `${path}[${i}]`]);
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      for (const [key] of entries) {
        if (key.includes('\u0000')) found.push({ field: path, reason: TEXT_REASONS.keyNul });
        if (!key.isWellFormed()) found.push({ field: path, reason: TEXT_REASONS.keySurrogate });
      }
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        stack.push([child, path === rootName ? key : `${path}.${key}`]);
      }
    }
  }
  return found;
}
