/**
 * Realistic, reproducible demo usage: a dozen models used with a skewed mix, more traffic on
 * weekdays than at weekends, steady growth from month to month, and a share of web-app usage
 * made without an API key. The same seed gives the same events for the same days. Events
 * state no cost: they are priced from the price sheet, as a gateway's would be, so every model
 * here has a price in the default sheet (test/demo.test.ts checks it).
 */

import type { UsageEventInput } from '../modules/ingestion/event-input.ts';
import { seededRandom } from '../seeded-random.ts';
import { DAY_MS } from '../time/calendar.ts';

interface DemoModel {
  model: string;
  /** Relative share of requests. */
  weight: number;
}

export const DEMO_MODELS: readonly DemoModel[] = [
  { model: 'gpt-4o-mini', weight: 30 },
  { model: 'gpt-4o', weight: 16 },
  { model: 'claude-sonnet-4', weight: 12 },
  { model: 'claude-3-5-haiku', weight: 9 },
  { model: 'llama-3.3-70b', weight: 7 },
  { model: 'mistral-large', weight: 6 },
  { model: 'gemini-2.5-pro', weight: 5 },
  { model: 'gemini-2.5-flash', weight: 5 },
  { model: 'o4-mini', weight: 4 },
  { model: 'gpt-4.1-nano', weight: 3 },
  { model: 'mistral-small', weight: 2 },
  { model: 'o3', weight: 1 },
];

/** Who made a demo request: an API key by its role, or the web app (no key). */
export type DemoSource = 'gateway' | 'staging' | 'web';

export interface DemoEventSpec {
  source: DemoSource;
  event: Omit<UsageEventInput, 'organization_id' | 'api_key_id'>;
}

function pick<T>(random: () => number, items: readonly T[], weight: (item: T) => number): T {
  const total = items.reduce((sum, item) => sum + weight(item), 0);
  let point = random() * total;
  for (const item of items) {
    point -= weight(item);
    if (point < 0) return item;
  }
  return items.at(-1)!;
}

/**
 * Events from the first day of the month `months - 1` months before `now` until `now`, in
 * time order. Requests per day: about 180 on weekdays and 50 at weekends, growing 12 % a month.
 */
export function* demoEvents(seed: number, months: number, now: number): Generator<DemoEventSpec> {
  const random = seededRandom(seed);
  const today = new Date(now);
  const start = Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - (months - 1), 1);
  let n = 0;
  for (let day = start; day <= now; day += DAY_MS) {
    const weekday = new Date(day).getUTCDay();
    const weekend = weekday === 0 || weekday === 6;
    const growth = 1.12 ** ((day - start) / (30 * DAY_MS));
    const requests = Math.round((weekend ? 50 : 180) * growth * (0.8 + 0.4 * random()));
    // Office hours (06–22 UTC) on past days; today only the part already past, so that the
    // current month always has usage, even early on its first day.
    const past = now - day;
    const at = past >= DAY_MS ? () => (6 + 16 * random()) * 3_600_000 : () => random() * past;
    const times = Array.from({ length: requests }, () => day + Math.floor(at())).sort((a, b) => a - b);
    for (const time of times) {
      const model = pick(random, DEMO_MODELS, (m) => m.weight);
      const source = pick(random, ['gateway', 'staging', 'web'] as const, (s) =>
        s === 'gateway' ? 55 : s === 'staging' ? 15 : 30,
      );
      const neurons = Math.round(80 + 1200 * random() ** 2);
      const synapses = Math.round(15 + 240 * random() ** 3);
      n += 1;
      yield {
        source,
        event: {
          id: `demo_${seed}_${n}`,
          model: model.model,
          neurons,
          synapses,
          timestamp: new Date(time).toISOString(),
        },
      };
    }
  }
}
