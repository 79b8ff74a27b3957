/**
 * Raw event retention. With RAW_EVENTS_RETENTION_MONTHS set, raw events are kept for the current
 * UTC month and the months before it up to that count; older ones are removed (whole monthly
 * partitions on PostgreSQL, rows in batches on SQLite) while rollups keep every total. An event
 * dated before the horizon is refused at ingestion, so that a late retry of an event whose raw
 * row is gone can never be counted twice. Once a month's raw events are removed, it stays
 * closed (raw_event_retention), whatever the setting becomes later.
 *
 * The server runs `maintain` at start and every hour: it creates the partitions of the months
 * ahead, then applies retention. Several replicas may do so at once; PostgreSQL lets one at a
 * time drop partitions.
 */
import type { RemovedEvents, Storage } from '../../storage/storage.ts';
import { monthsFrom, retentionHorizon } from './horizon.ts';
import { eventsRemovedBefore } from './retention.repository.ts';

/** Months after the current one whose partitions exist ahead of time. */
export const MONTHS_AHEAD = 3;
/** How often the server creates partitions ahead and applies retention. */
export const MAINTENANCE_INTERVAL_MS = 3_600_000;
/** How long this process trusts what it read of raw_event_retention (another process may raise it). */
const REMOVED_BEFORE_TTL_MS = 60_000;

export class RawEventRetention {
  private removedBefore = 0;
  private readAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private reading: Promise<number> | undefined;

  constructor(
    private readonly storage: Storage,
    /** RAW_EVENTS_RETENTION_MONTHS; undefined keeps every raw event. */
    readonly months: number | undefined,
    private readonly clock: () => number,
  ) {}

  /**
   * The time (epoch ms) before which no event is accepted: the later of the configured horizon
   * and the one retention last applied; undefined when every event is kept.
   */
  async horizon(): Promise<number | undefined> {
    if (Date.now() - this.readAt > REMOVED_BEFORE_TTL_MS) {
      // Concurrent requests share one read.
      this.reading ??= this.readRemovedBefore().finally(() => {
        this.reading = undefined;
      });
      await this.reading;
    }
    const configured = this.months === undefined ? 0 : retentionHorizon(this.clock(), this.months);
    const horizon = Math.max(configured, this.removedBefore);
    return horizon > 0 ? horizon : undefined;
  }

  /** The time before which raw events were removed, fresh from the database; 0 when none were. */
  async readRemovedBefore(): Promise<number> {
    this.removedBefore = await eventsRemovedBefore(this.storage.db);
    this.readAt = Date.now();
    return this.removedBefore;
  }

  /**
   * Creates the partitions of the current month and the next ones, then removes the raw events
   * before the configured horizon. Undefined when nothing was to be removed or another process
   * is removing them.
   */
  async maintain(): Promise<RemovedEvents | undefined> {
    const now = this.clock();
    await this.storage.prepareEventMonths(monthsFrom(now, MONTHS_AHEAD));
    if (this.months === undefined) return undefined;
    const removed = await this.storage.removeEventsBefore(retentionHorizon(now, this.months));
    await this.readRemovedBefore();
    return removed;
  }

  /** Runs `maintain` now and every MAINTENANCE_INTERVAL_MS, one run at a time, reporting each outcome. */
  start(report: (outcome: { removed?: RemovedEvents; error?: unknown }) => void): void {
    const run = () => {
      this.running ??= this.maintain()
        .then((removed) => {
          if ((removed?.months?.length ?? 0) > 0 || (removed?.rows ?? 0) > 0) report({ removed: removed! });
        })
        .catch((error: unknown) => report({ error }))
        .finally(() => {
          this.running = undefined;
        });
    };
    run();
    this.timer = setInterval(run, MAINTENANCE_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops the periodic runs and waits for one under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
