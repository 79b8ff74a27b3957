/**
 * The rate limit shared by every replica: each key's bucket lives in Redis, so that N replicas
 * together allow the configured rate, not N times it. When Redis does not answer (down, or
 * slower than its command timeout), the request is decided by this process's own bucket, as
 * without Redis: the API stays up, and each replica still holds a key to the rate on its own.
 */
import type { SharedState } from '../shared-state/redis-state.ts';
import { type RateDecision, type RateLimit, type RateLimiter, rateDecision } from './rate-limit.ts';

export class SharedRateLimiter implements RateLimit {
  readonly perMinute: number;
  /** Requests decided by this process's own bucket because Redis did not answer. */
  fallbacks = 0;
  private degraded = false;

  constructor(
    private readonly shared: Pick<SharedState, 'takeToken'>,
    private readonly local: RateLimiter,
    /** Told when requests start being decided locally (once until Redis answers again). */
    private readonly onFallback: (error: unknown) => void,
  ) {
    this.perMinute = local.perMinute;
  }

  async take(key: string): Promise<RateDecision> {
    try {
      const { allowed, tokens } = await this.shared.takeToken(key, this.perMinute);
      this.degraded = false;
      return rateDecision(allowed, tokens, this.perMinute);
    } catch (error) {
      this.fallbacks++;
      if (!this.degraded) this.onFallback(error);
      this.degraded = true;
      return this.local.take(key);
    }
  }
}
