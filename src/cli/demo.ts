/**
 * `freddy-analytics demo`: a demo organization with three API keys and months of realistic
 * usage, stored through the same ingestion code as the HTTP API, so that the API, `report`
 * and the dashboard have something to show. Prints a read-only key to try them with.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { apiKeyMonthTotals } from '../modules/analytics/analytics.repository.ts';
import { changeApiKey, createApiKey } from '../modules/api-keys/api-keys.service.ts';
import { OPERATOR } from '../modules/auth/principal.ts';
import type { UsageEventInput } from '../modules/ingestion/event-input.ts';
import { MAX_BATCH } from '../modules/ingestion/ingestion.schemas.ts';
import { type IngestionContext, ingestUsage } from '../modules/ingestion/ingestion.service.ts';
import { createOrganization } from '../modules/orgs/orgs.service.ts';
import { loadPriceSheet } from '../modules/pricing/pricing.service.ts';
import { nanoToChf } from '../money/chf.ts';
import { addMonths, daysInMonth, monthKey, monthKeyOf, yearMonthOf } from '../time/calendar.ts';
import { output, withContext } from './context.ts';
import { batchJob, monthlyLimitNano } from './demo-budget.ts';
import { type DemoEventSpec, type DemoSource, demoEvents } from './demo-usage.ts';

export interface DemoResult {
  organization_id: string;
  organization_name: string;
  events: number;
  months: number;
  api_keys: Array<{ id: string; name: string; scopes: string[]; monthly_limit: number | null }>;
  /** Secret of the read-only key, for the API and the dashboard. */
  read_key: string;
}

export async function createDemo(
  ctx: IngestionContext,
  options: { seed: number; months: number; now: number },
): Promise<DemoResult> {
  const { now, months } = options;
  const start = new Date(now);
  const createdAt = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() - (months - 1), 1);
  const org = await createOrganization(ctx.storage.db, { name: 'Demo Org' }, createdAt);
  const key = (name: string, scopes: Array<'read:usage' | 'write:usage' | 'manage:keys'>) =>
    createApiKey(ctx.storage.db, org.id, { name, scopes }, createdAt, OPERATOR);
  const gateway = await key('Production gateway', ['read:usage', 'write:usage']);
  const staging = await key('Staging', ['read:usage', 'write:usage']);
  const dashboard = await key('Dashboard (read-only)', ['read:usage']);
  const keyOf: Record<DemoSource, string | null> = {
    gateway: gateway.apiKey.id,
    staging: staging.apiKey.id,
    web: null,
  };

  let events = 0;
  const store = async (specs: Iterable<DemoEventSpec>) => {
    let batch: UsageEventInput[] = [];
    const flush = async () => {
      await ingestUsage(ctx, OPERATOR, batch, now);
      events += batch.length;
      batch = [];
    };
    for (const { source, event } of specs) {
      batch.push({ ...event, organization_id: org.id, api_key_id: keyOf[source] });
      if (batch.length === MAX_BATCH) await flush();
    }
    if (batch.length > 0) await flush();
  };
  await store(demoEvents(options.seed, months, now));

  // The production key's limit fits a whole month of its usage; a batch job this month puts it
  // at warning level, whatever the day (see demo-budget.ts).
  const spentIn = async (month: number) =>
    (await apiKeyMonthTotals(ctx.storage.db, org.id, month, gateway.apiKey.id)).costNano;
  const thisMonth = yearMonthOf(now);
  const pastMonthsNano: bigint[] = [];
  for (let back = months - 1; back >= 1; back--)
    pastMonthsNano.push(await spentIn(monthKey(addMonths(thisMonth, -back))));
  const monthToDateNano = await spentIn(monthKeyOf(now));
  const limitNano = monthlyLimitNano({
    pastMonthsNano,
    monthToDateNano,
    dayOfMonth: new Date(now).getUTCDate(),
    daysInMonth: daysInMonth(thisMonth),
  });
  const monthStart = Date.UTC(thisMonth.year, thisMonth.month - 1, 1);
  const batchOptions = { seed: options.seed, limitNano, monthToDateNano, monthStart, now };
  await store(batchJob(batchOptions, await loadPriceSheet(ctx.storage.db)));
  await changeApiKey(ctx.storage.db, org.id, gateway.apiKey.id, { monthlyLimitNano: limitNano }, OPERATOR);

  return {
    organization_id: org.id,
    organization_name: org.name,
    events,
    months,
    api_keys: [
      { ...describe(gateway.apiKey), monthly_limit: nanoToChf(limitNano) },
      describe(staging.apiKey),
      describe(dashboard.apiKey),
    ],
    read_key: dashboard.secret,
  };
}

function describe(key: { id: string; name: string; scopes: readonly string[]; monthlyLimitNano: bigint | null }) {
  return {
    id: key.id,
    name: key.name,
    scopes: [...key.scopes],
    monthly_limit: key.monthlyLimitNano === null ? null : nanoToChf(key.monthlyLimitNano),
  };
}

function integerOption(min: number, max: number) {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return Number(value);
  };
}

export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description('Create "Demo Org" with three API keys and months of realistic usage; prints a key to try it with')
    .option(
      '--seed <n>',
      'random seed: the same seed gives the same usage on the same day',
      integerOption(0, 2 ** 32 - 1),
      1,
    )
    .option('--months <n>', 'months of usage, ending with the current one', integerOption(1, 24), 6)
    .option('--json', 'print one JSON object')
    .action(async (options: { seed: number; months: number; json?: boolean }) => {
      const { demo, base } = await withContext(async (ctx, config) => ({
        demo: await createDemo(ctx, { seed: options.seed, months: options.months, now: Date.now() }),
        base: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`,
      }));
      output(Boolean(options.json), { ...demo }, [
        `Created ${demo.organization_name} (${demo.organization_id}) with ${demo.events} usage events over ${demo.months} months.`,
        ...demo.api_keys.map(
          (k) =>
            `  ${k.id}  ${k.name}  [${k.scopes.join(', ')}]  ${k.monthly_limit === null ? 'no limit' : `limit ${k.monthly_limit} CHF/month`}`,
        ),
        '',
        'Read-only key (shown once):',
        `  ${demo.read_key}`,
        '',
        'Try the API (with `freddy-analytics serve` running):',
        `  curl -H 'X-API-Key: ${demo.read_key}' ${base}/v1/analytics/usage/summary/${demo.organization_id}`,
        `Dashboard: ${base}/dashboard (organization ${demo.organization_id}, the key above)`,
      ]);
    });
}
