import type { Scope } from '../api-keys/scopes.ts';

/** Who is calling: a platform admin key, or an API key of one organization. */
export type Principal =
  | { kind: 'admin'; keyId: string }
  | { kind: 'api_key'; organizationId: string; apiKeyId: string; scopes: readonly Scope[] };

/** The command line: whoever can run it reaches the database, so it acts as a platform admin. */
export const OPERATOR: Principal = { kind: 'admin', keyId: 'cli' };

/** What a route asks of its caller: any valid key, a platform admin key, or a scope. */
export type Access = { authenticated: true } | { admin: true } | { scope: Scope };

export function canActOn(principal: Principal, organizationId: string): boolean {
  return principal.kind === 'admin' || principal.organizationId === organizationId;
}

export function hasAccess(principal: Principal, access: Access): boolean {
  if (principal.kind === 'admin' || 'authenticated' in access) return true;
  return 'scope' in access && principal.scopes.includes(access.scope);
}
