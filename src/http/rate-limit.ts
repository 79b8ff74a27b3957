/**
 * Rate limiting per API key, so that one busy or runaway key cannot starve the others. Each
 * key (organization key or platform admin key) owns a token bucket that holds a minute's
 * allowance and refills continuously; a request takes one token or is answered 429
 * `RATE_LIMIT_EXCEEDED` with `Retry-After`. State is per process: behind a load balancer each
 * replica allows the limit on its own, unless the buckets are kept in Redis
 * (shared-rate-limit.ts), where all replicas take from the same ones.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../errors.ts';
import type { Principal } from '../modules/auth/principal.ts';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** One request's answer: allowed or not, and what the X-RateLimit headers report. */
export interface RateDecision {
  allowed: boolean;
  remaining: number;
  resetSeconds: number;
  retryAfterSeconds: number;
}

/** A limit of requests per minute per key, kept in this process or shared. */
export interface RateLimit {
  readonly perMinute: number;
  take(key: string): RateDecision | Promise<RateDecision>;
}

/** The decision once a bucket of `perMinute` tokens holds `tokens` (after this request's was taken, if it was). */
export function rateDecision(allowed: boolean, tokens: number, perMinute: number): RateDecision {
  const perMs = perMinute / 60_000;
  return {
    allowed,
    remaining: Math.floor(tokens),
    resetSeconds: Math.ceil((perMinute - tokens) / perMs / 1000),
    retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)),
  };
}

/** Above this many tracked keys, buckets that have refilled completely are forgotten. */
const PRUNE_ABOVE = 10_000;

export class RateLimiter implements RateLimit {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    readonly perMinute: number,
    private readonly clock: () => number,
  ) {
    this.perMs = perMinute / 60_000;
  }

  /** Takes one token for `key`; says whether it was allowed and what the headers report. */
  take(key: string): RateDecision {
    const now = this.clock();
    const bucket = this.refilled(key, now);
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    return rateDecision(allowed, bucket.tokens, this.perMinute);
  }

  private refilled(key: string, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= PRUNE_ABOVE) this.prune(now);
      bucket = { tokens: this.perMinute, updatedAt: now };
      this.buckets.set(key, bucket);
      return bucket;
    }
    const elapsed = Math.max(0, now - bucket.updatedAt);
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + elapsed * this.perMs);
    bucket.updatedAt = now;
    return bucket;
  }

  private prune(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * this.perMs >= this.perMinute) this.buckets.delete(key);
    }
  }
}

function principalKey(principal: Principal): string {
  return principal.kind === 'admin' ? `admin/${principal.keyId}` : `key/${principal.apiKeyId}`;
}

function setHeaders(reply: FastifyReply, limit: number, remaining: number, resetSeconds: number): void {
  reply.header('x-ratelimit-limit', limit);
  reply.header('x-ratelimit-remaining', remaining);
  reply.header('x-ratelimit-reset', resetSeconds);
}

/**
 * Adds the limit to every authenticated route. Must be registered after the authentication
 * hook, which sets `request.principal`; without a limiter (the limit is off) it adds nothing.
 */
export function registerRateLimit(app: FastifyInstance, limiter: RateLimit | undefined): void {
  if (!limiter) return;
  const perMinute = limiter.perMinute;
  app.addHook('onRequest', async (request, reply) => {
    if (!request.principal) return;
    const decision = await limiter.take(principalKey(request.principal));
    setHeaders(reply, perMinute, decision.remaining, decision.resetSeconds);
    if (!decision.allowed) {
      reply.header('retry-after', decision.retryAfterSeconds);
      throw new AppError('RATE_LIMIT_EXCEEDED', {
        systemMessage: `More than ${perMinute} requests per minute with this API key; retry after ${decision.retryAfterSeconds} s`,
        details: { limit_per_minute: perMinute, retry_after_seconds: decision.retryAfterSeconds },
      });
    }
  });
}
