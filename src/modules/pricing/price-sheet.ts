/**
 * Which price applies to an event: the sheet in force at the event's time, then the entry
 * that matches its model. An entry's `model` is an exact name, or a pattern with `*`
 * (`claude-*-haiku*`). Matching order:
 *   1. the exact name;
 *   2. the dated-snapshot base: `gpt-4o-2024-08-06` and `claude-3-5-sonnet-20241022` are
 *      priced as `gpt-4o` and `claude-3-5-sonnet` (but `gpt-4o-mini` is never priced as `gpt-4o`);
 *   3. the most specific pattern (most literal characters; ties by name).
 * An organization may have a sheet of its own (negotiated rates): for its events, the price its
 * own sheet gives at the event's time (matched the same way) takes precedence over the
 * platform's (PriceBook). Pure: the service loads the entries once per batch and asks here per
 * event.
 */
import type { Price } from './cost.ts';

export interface PriceEntry extends Price {
  model: string;
  /** Epoch ms from which this price applies (inclusive), until the model's next entry. */
  effectiveFrom: number;
}

const SNAPSHOT_SUFFIX = /^(.+?)-(?:\d{4}-\d{2}-\d{2}|\d{8})$/;

export function isPattern(model: string): boolean {
  return model.includes('*');
}

/** The base name of a dated snapshot, or undefined when the model has no date suffix. */
export function snapshotBase(model: string): string | undefined {
  return SNAPSHOT_SUFFIX.exec(model)?.[1];
}

export function patternMatches(pattern: string, model: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(model);
}

export class PriceSheet {
  /** Entries per model (or pattern), oldest first. */
  private readonly byModel = new Map<string, PriceEntry[]>();
  private readonly patterns: string[];

  constructor(entries: readonly PriceEntry[]) {
    for (const entry of entries) {
      const list = this.byModel.get(entry.model) ?? [];
      list.push(entry);
      this.byModel.set(entry.model, list);
    }
    for (const list of this.byModel.values()) list.sort((a, b) => a.effectiveFrom - b.effectiveFrom);
    const literal = (p: string) => p.replaceAll('*', '').length;
    this.patterns = [...this.byModel.keys()]
      .filter(isPattern)
      .sort((a, b) => literal(b) - literal(a) || (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The entry of one sheet key in force at `at`, if any. */
  entryAt(key: string, at: number): PriceEntry | undefined {
    const list = this.byModel.get(key);
    if (!list) return undefined;
    let found: PriceEntry | undefined;
    for (const entry of list) {
      if (entry.effectiveFrom > at) break;
      found = entry;
    }
    return found;
  }

  /** The price of `model` at `at`, or undefined when the sheet in force then has none for it. */
  priceAt(model: string, at: number): PriceEntry | undefined {
    if (!isPattern(model)) {
      const exact = this.entryAt(model, at);
      if (exact) return exact;
    }
    const base = snapshotBase(model);
    const byBase = base === undefined ? undefined : this.entryAt(base, at);
    if (byBase) return byBase;
    for (const pattern of this.patterns) {
      if (patternMatches(pattern, model)) {
        const entry = this.entryAt(pattern, at);
        if (entry) return entry;
      }
    }
    return undefined;
  }

  /** Every entry in force at `at`, one per model or pattern, sorted by name. */
  sheetAt(at: number): PriceEntry[] {
    return [...this.byModel.keys()]
      .sort()
      .map((key) => this.entryAt(key, at))
      .filter((entry): entry is PriceEntry => entry !== undefined);
  }

  /** Whether events of `model` may be priced by the sheet key `key` (for choosing what to reprice). */
  static covers(key: string, model: string): boolean {
    return key === model || snapshotBase(model) === key || (isPattern(key) && patternMatches(key, model));
  }
}

/** Where a price comes from: the platform's sheet, or the organization's own. */
export type PriceSource = 'platform' | 'organization';

export type SourcedPriceEntry = PriceEntry & { source: PriceSource };

/**
 * The platform sheet and organizations' own sheets. For an event of an organization, its own
 * sheet's price at the event's time, if it has one for the model, takes precedence over the
 * platform's; before its own price's effective time the platform's applies.
 */
export class PriceBook {
  private readonly own: ReadonlyMap<string, PriceSheet>;

  constructor(
    readonly platform: PriceSheet,
    organizationEntries: ReadonlyMap<string, readonly PriceEntry[]> = new Map(),
  ) {
    this.own = new Map([...organizationEntries].map(([id, entries]) => [id, new PriceSheet(entries)]));
  }

  /** The price of `model` for an event of the organization at `at`, or undefined when neither sheet has one. */
  priceAt(organizationId: string, model: string, at: number): SourcedPriceEntry | undefined {
    const own = this.own.get(organizationId)?.priceAt(model, at);
    if (own) return { ...own, source: 'organization' };
    const platform = this.platform.priceAt(model, at);
    return platform && { ...platform, source: 'platform' };
  }

  /** The sheet the organization gets at `at`: its own entries over the platform's, one per model or pattern. */
  sheetAt(organizationId: string, at: number): SourcedPriceEntry[] {
    const byModel = new Map<string, SourcedPriceEntry>();
    for (const entry of this.platform.sheetAt(at)) byModel.set(entry.model, { ...entry, source: 'platform' });
    for (const entry of this.own.get(organizationId)?.sheetAt(at) ?? []) {
      byModel.set(entry.model, { ...entry, source: 'organization' });
    }
    return [...byModel.keys()].sort().map((model) => byModel.get(model)!);
  }
}
