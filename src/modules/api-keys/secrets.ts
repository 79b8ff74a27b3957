/**
 * API-key secrets. A secret is `fak_` plus 40 random characters (about 238 bits); only its
 * SHA-256 is stored. The first characters are its public prefix, shown in listings and
 * recognizable by secret scanners.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { randomToken } from '../../ids.ts';

export const SECRET_PREFIX = 'fak_';
const PUBLIC_PREFIX_LENGTH = SECRET_PREFIX.length + 8;

export interface GeneratedSecret {
  secret: string;
  prefix: string;
  hash: string;
}

export function generateSecret(): GeneratedSecret {
  const secret = SECRET_PREFIX + randomToken(40);
  return { secret, prefix: secret.slice(0, PUBLIC_PREFIX_LENGTH), hash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

const HEX = /^(?:[0-9a-f]{2})+$/i;

/**
 * Constant-time comparison of two hex hashes. Anything else is unequal: Buffer's hex decoding
 * stops at the first non-hex character, so "zz" and "yy" would both decode to nothing.
 */
export function hashesEqual(a: string, b: string): boolean {
  if (!HEX.test(a) || !HEX.test(b)) return false;
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
