/**
 * Authentication and authorization hooks. A route declares `config.access`; routes without it
 * are public. The key is checked before anything else (401), then the organization in the
 * path and the scope (403), and only then is the input validated.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { authenticate } from './authenticate.ts';
import { canActOn, hasAccess } from './principal.ts';

export function presentedSecret(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'] ?? request.headers['api-key'];
  const value = Array.isArray(header) ? header[0] : header;
  return value?.trim() || undefined;
}

/** Adds the hooks to the root instance, so that they apply to every route. */
export function registerAuth(
  app: FastifyInstance,
  ctx: Pick<AppContext, 'storage' | 'clock' | 'principals' | 'lastUsed' | 'keyChanged'>,
): void {
  app.decorateRequest('principal', null);
  const { principals, lastUsed } = ctx;

  app.addHook('onRequest', async (request) => {
    if (!request.routeOptions.config.access) return;
    const now = ctx.clock();
    const secret = presentedSecret(request);
    if (!secret) throw missingKey(request);
    request.principal = await authenticate(ctx.storage.db, secret, now, principals);
    // Bookkeeping only: a failed write must not fail the request it describes.
    await lastUsed.record(ctx.storage.db, request.principal, now).catch((err: unknown) => {
      request.log.warn({ err }, 'could not record last use of key');
    });
  });

  forgetChangedKeys(app, ctx);

  app.addHook('preValidation', async (request) => {
    const access = request.routeOptions.config.access;
    if (!access || !request.principal) return;
    const params = request.params as { org_id?: unknown; api_key_id?: unknown } | undefined;
    const orgId = params?.org_id;
    if (typeof orgId === 'string' && !canActOn(request.principal, orgId)) {
      throw accessDenied(orgId, typeof params?.api_key_id === 'string' ? params.api_key_id : undefined);
    }
    if (!hasAccess(request.principal, access)) {
      const needed = 'scope' in access ? `the ${access.scope} scope` : 'a platform admin key';
      throw new AppError('INSUFFICIENT_PERMISSIONS', { systemMessage: `This route needs ${needed}` });
    }
  });
}

/**
 * A write to a key (update, activate, deactivate, delete; a platform admin key's delete or
 * rotate) takes effect in this process at once: the key's cached principal is dropped before
 * the change and again once it is answered, so that a request authenticated while the change
 * ran cannot keep the old state either. The second time, the change is also announced to the
 * other replicas (with Redis), which forget the key within moments.
 */
function forgetChangedKeys(app: FastifyInstance, ctx: Pick<AppContext, 'principals' | 'keyChanged'>): void {
  const changedKey = (request: FastifyRequest) => {
    if (request.method === 'GET' || request.method === 'HEAD') return undefined;
    const params = request.params as { key_id?: unknown; api_key_id?: unknown } | undefined;
    const id = params?.key_id ?? params?.api_key_id;
    return typeof id === 'string' ? id : undefined;
  };
  app.addHook('preHandler', async (request) => {
    const id = changedKey(request);
    if (id) ctx.principals.forgetKey(id);
  });
  app.addHook('onSend', async (request, _reply, payload) => {
    const id = changedKey(request);
    if (id) await ctx.keyChanged(id);
    return payload;
  });
}

/**
 * 401 for a request without a key. Many clients send a key as `Authorization: Bearer …`, which
 * this API does not read: the answer says where the key goes. The code stays
 * AUTHENTICATION_REQUIRED, as no key was looked at (INVALID_API_KEY would say the key is wrong).
 */
function missingKey(request: FastifyRequest): AppError {
  if (request.headers.authorization === undefined) return new AppError('AUTHENTICATION_REQUIRED');
  return new AppError('AUTHENTICATION_REQUIRED', {
    systemMessage: 'Send the API key in the X-API-Key header (or Api-Key); the Authorization header is not read',
  });
}

/** 403 for another organization; routes that address one API key answer as the Freddy API documents for them. */
function accessDenied(organizationId: string, apiKeyId: string | undefined): AppError {
  if (apiKeyId === undefined)
    return new AppError('ORGANIZATION_ACCESS_DENIED', { details: { organization_id: organizationId } });
  return new AppError('ORGANIZATION_ACCESS_DENIED', {
    message: "You don't have permission to access this API key",
    systemMessage: 'Authorization error',
    type: 'client_error',
    details: { api_key_id: apiKeyId, organization_id: organizationId },
  });
}
