/** Transactions run again where the engine asks for it, within the bound of a request. */
import { isRetryableTransactionError } from './failures.ts';

/** The time (epoch ms) after which work bounded by `timeoutMs` from now is given up; Infinity without a bound. */
export function deadlineAfter(timeoutMs: number | undefined): number {
  return timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
}

/**
 * Runs `run` again (up to `attempts` times in all) after a deadlock, a serialization failure or
 * a busy SQLite database, as long as `deadline` (epoch ms) has not passed: an attempt that used
 * up the bound waiting for a lock is not followed by another that would wait as long again.
 */
export async function withRetry<T>(
  run: () => Promise<T>,
  deadline = Number.POSITIVE_INFINITY,
  attempts = 5,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= attempts || !isRetryableTransactionError(error)) throw error;
      const pause = 5 * attempt + Math.random() * 10 * attempt;
      if (Date.now() + pause >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
