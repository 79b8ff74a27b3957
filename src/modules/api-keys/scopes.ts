export const SCOPES = ['read:usage', 'write:usage', 'manage:keys'] as const;
export type Scope = (typeof SCOPES)[number];

/** What a key gets when its creator names no scopes: read and report usage, not manage keys. */
export const DEFAULT_SCOPES: Scope[] = ['read:usage', 'write:usage'];

export function parseScopes(stored: string): Scope[] {
  return stored.split(' ').filter((s): s is Scope => (SCOPES as readonly string[]).includes(s));
}

export function formatScopes(scopes: readonly Scope[]): string {
  return [...new Set(scopes)].sort().join(' ');
}
