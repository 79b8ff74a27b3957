/** Random identifiers and secrets: `org_…`, `apikey_…`, from the operating system's CSPRNG. */
import { randomInt } from 'node:crypto';

const ALPHANUMERIC = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER_ALPHANUMERIC = ALPHANUMERIC.slice(0, 36);

export function randomToken(length: number, alphabet = ALPHANUMERIC): string {
  let token = '';
  for (let i = 0; i < length; i++) token += alphabet[randomInt(alphabet.length)];
  return token;
}

export function newId(prefix: 'org' | 'apikey' | 'admin'): string {
  return `${prefix}_${randomToken(20, LOWER_ALPHANUMERIC)}`;
}
