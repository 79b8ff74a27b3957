/**
 * Who is calling, as the request carries it: routes declare what they need (`config.access`),
 * the auth hooks (modules/auth/auth.plugin.ts) set `request.principal`, handlers read it here.
 */
import type { FastifyRequest } from 'fastify';
import type { Access, Principal } from '../modules/auth/principal.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The authenticated caller of a route that declares `access`. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('route has no access declaration');
  return request.principal;
}
