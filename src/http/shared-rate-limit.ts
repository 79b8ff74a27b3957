/**
 * The rate limit shared by every replica: each key's bucket lives in Redis, so that N replicas
 * together allow the configured rate, not N times it. When Redis does not answer (down, or
 * slower than its command timeout), the request is decided by this process's own bucket, as
 * without Redis: the API stays up, and each replica still holds a key to the rate on its own.
 *
 * A round trip to Redis on every request would cost each request a wait (and, on an idle
 * machine, the wake-up of two processes). So a replica leases tokens: when it asks for one it
 * asks for a few more, which Redis grants only out of the upper half of the bucket, and spends
 * them without asking until they run out or are a second old, when it gives the rest back. No
 * token is spent twice, so the replicas together never allow more than the rate; near the
 * limit every request asks Redis for its own token, so they allow the rate itself. A lease is
 * at most 1/200 of the rate per minute (a limit below 400 a minute is never leased), and at
 * most MAX_LEASE tokens.
 */
import type { SharedState } from '../shared-state/redis-state.ts';
import { type RateDecision, type RateLimit, type RateLimiter, rateDecision } from './rate-limit.ts';

/** The most tokens one request asks Redis for. */
export const MAX_LEASE = 100;
/** Leased tokens not spent within this many ms are given back. */
export const LEASE_MS = 1_000;

interface Lease {
  /** Tokens this process may still spend. */
  tokens: number;
  /** The shared bucket's tokens when the lease was granted, for the X-RateLimit headers. */
  shared: number;
  /** Epoch ms after which the lease is given back rather than spent. */
  until: number;
}

/** The tokens one request asks for under a limit of `perMinute`: 1 up to 399 a minute. */
export function leaseSize(perMinute: number): number {
  return Math.max(1, Math.min(MAX_LEASE, Math.floor(perMinute / 200)));
}

export class SharedRateLimiter implements RateLimit {
  readonly perMinute: number;
  /** Requests decided by this process's own bucket because Redis did not answer. */
  fallbacks = 0;
  /** Requests that asked Redis (the fallbacks among them). */
  sharedAsks = 0;
  /** Requests allowed with a token this process held. */
  leaseSpends = 0;
  private degraded = false;
  private readonly leases = new Map<string, Lease>();
  private readonly want: number;

  constructor(
    private readonly shared: Pick<SharedState, 'takeTokens'>,
    private readonly local: RateLimiter,
    private readonly clock: () => number,
    /** Told when requests start being decided locally (once until Redis answers again). */
    private readonly onFallback: (error: unknown) => void,
  ) {
    this.perMinute = local.perMinute;
    this.want = leaseSize(this.perMinute);
  }

  take(key: string): RateDecision | Promise<RateDecision> {
    const now = this.clock();
    const lease = this.leases.get(key);
    if (lease) {
      if (now < lease.until && lease.tokens >= 1) {
        lease.tokens -= 1;
        this.leaseSpends++;
        if (lease.tokens < 1) this.leases.delete(key);
        return rateDecision(true, lease.shared + lease.tokens, this.perMinute);
      }
      this.leases.delete(key);
      void this.giveBack(key, lease);
    }
    return this.ask(key, now);
  }

  private async ask(key: string, now: number): Promise<RateDecision> {
    this.sharedAsks++;
    try {
      const { granted, tokens } = await this.shared.takeTokens(key, this.perMinute, this.want);
      this.degraded = false;
      if (granted > 1) this.addLease(key, granted - 1, tokens, now);
      return rateDecision(granted >= 1, tokens + Math.max(0, granted - 1), this.perMinute);
    } catch (error) {
      this.fallbacks++;
      if (!this.degraded) this.onFallback(error);
      this.degraded = true;
      return this.local.take(key);
    }
  }

  /** Requests of one key that asked Redis at once each got their own lease: they add up. */
  private addLease(key: string, tokens: number, shared: number, now: number): void {
    const lease = this.leases.get(key);
    if (lease) {
      lease.tokens += tokens;
      lease.shared = shared;
    } else this.leases.set(key, { tokens, shared, until: now + LEASE_MS });
  }

  /** A lease's unspent tokens back to the shared bucket; if Redis does not answer, they return as it refills. */
  private async giveBack(key: string, lease: Lease): Promise<void> {
    if (lease.tokens < 1) return;
    await this.shared.takeTokens(key, this.perMinute, -Math.floor(lease.tokens)).catch(() => {});
  }

  /** Gives every unspent lease back, as a replica stops. */
  async close(): Promise<void> {
    const leases = [...this.leases];
    this.leases.clear();
    await Promise.all(leases.map(([key, lease]) => this.giveBack(key, lease)));
  }
}
