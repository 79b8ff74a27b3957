/**
 * Property: for random price sheets and random events (some stating their cost, some of an
 * unknown model, some exactly at a price change), every stored cost is what an independent
 * computation from the test's own input says (the stated cost if the event stated one, else
 * the sheet's price at its time), and the rollup totals equal the sum of the per-event costs exactly — after
 * ingestion and again after a price change and a reprice. On both engines. FUZZ_RUNS sets the
 * number of runs (default 25).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { setPrice } from '../src/modules/pricing/pricing.service.ts';
import { reprice } from '../src/modules/pricing/reprice.ts';
import { checkRollups } from '../src/modules/rollups/check.ts';
import { CHF, type EventInput, forEachDialect, ingest, makeApiKey, makeOrg, nanoToDecimal } from './harness.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const START = Date.parse('2025-01-01T00:00:00Z');
const END = Date.parse('2025-05-01T00:00:00Z');
const CHANGES = [START, Date.parse('2025-02-01T00:00:00Z'), Date.parse('2025-03-15T12:00:00Z')];

interface SheetEntry {
  model: string;
  effectiveFrom: number;
  neuronsPico: bigint;
  synapsesPico: bigint;
}

const priceArb = fc.bigInt(0n, 1_000n * 1_000_000_000_000n); // up to 1000 CHF per 1M, 12 decimals
const entryArb = (model: string) =>
  fc.record({
    model: fc.constant(model),
    effectiveFrom: fc.constantFrom(...CHANGES),
    neuronsPico: priceArb,
    synapsesPico: priceArb,
  });
const eventArb = fc.record({
  model: fc.constantFrom('m0', 'm1', 'm0-2025-02-03', 'unknown'),
  keyed: fc.boolean(),
  neurons: fc.integer({ min: 0, max: 100_000_000 }),
  synapses: fc.integer({ min: 0, max: 100_000_000 }),
  at: fc.oneof(fc.integer({ min: START - 86_400_000, max: END }), fc.constantFrom(...CHANGES)),
  statedNano: fc.option(fc.bigInt(0n, 1_000n * CHF), { freq: 4 }),
});

type SentEvent = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;

/** The oracle: the latest entry of the exact model (or of the snapshot's base) at the time. */
function expectedCost(sheet: readonly SheetEntry[], model: string, neurons: bigint, synapses: bigint, at: number) {
  const base = model.replace(/-\d{4}-\d{2}-\d{2}$/, '');
  const candidates = sheet.filter((e) => e.effectiveFrom <= at);
  const pick = (name: string) =>
    candidates.filter((e) => e.model === name).sort((a, b) => b.effectiveFrom - a.effectiveFrom)[0];
  const entry = pick(model) ?? pick(base);
  if (!entry) return 0n;
  const exact = neurons * entry.neuronsPico + synapses * entry.synapsesPico; // 10^-21 CHF
  const [quotient, remainder] = [exact / 1_000_000_000n, exact % 1_000_000_000n];
  if (remainder * 2n > 1_000_000_000n) return quotient + 1n;
  if (remainder * 2n === 1_000_000_000n) return quotient % 2n === 0n ? quotient : quotient + 1n;
  return quotient;
}

forEachDialect('pricing property: per-event costs add up to the rollups', (server) => {
  let run = 0;

  /** `sent`: what the test sent, by event id; a stated cost is the test's own, never read back from the row. */
  async function assertConsistent(
    orgId: string,
    sheet: readonly SheetEntry[],
    prefix: string,
    sent: ReadonlyMap<string, SentEvent>,
  ) {
    const db = server().storage.db;
    const rows = await db
      .selectFrom('usage_events')
      .select(['id', 'api_key_id', 'cost_nano', 'cost_source'])
      .where('organization_id', '=', orgId)
      .execute();
    assert.deepEqual(rows.map((r) => r.id).sort(), [...sent.keys()].sort());
    const unprefixed = sheet.map((e) => ({ ...e, model: e.model.slice(prefix.length) }));
    let sum = 0n;
    let keyedSum = 0n;
    for (const row of rows) {
      const event = sent.get(row.id)!;
      const cost = BigInt(row.cost_nano);
      const expected =
        event.statedNano ??
        expectedCost(unprefixed, event.model, BigInt(event.neurons), BigInt(event.synapses), event.at);
      const label = `${row.id} ${event.model} at ${new Date(event.at).toISOString()}`;
      assert.equal(cost, expected, label);
      assert.equal(row.cost_source === 'reported', event.statedNano !== null, `${label}: ${row.cost_source}`);
      sum += expected;
      if (event.keyed) keyedSum += expected;
      assert.equal(row.api_key_id !== null, event.keyed, label);
    }
    const total = async (table: 'rollup_org_model_month' | 'rollup_key_model_month' | 'rollup_key_day') => {
      const row = await db
        .selectFrom(table)
        .select((eb) => eb.fn.sum<bigint>('cost_nano').as('cost'))
        .where('organization_id', '=', orgId)
        .executeTakeFirstOrThrow();
      return BigInt(row.cost ?? 0);
    };
    assert.equal(await total('rollup_org_model_month'), sum);
    assert.equal(await total('rollup_key_day'), sum);
    assert.equal(await total('rollup_key_model_month'), keyedSum);
    assert.deepEqual((await checkRollups(db, orgId)).differences, []);
  }

  it('holds for random sheets and events, before and after a reprice', async () => {
    const property = fc.asyncProperty(
      fc.array(entryArb('m0'), { minLength: 1, maxLength: 3 }),
      fc.array(entryArb('m1'), { minLength: 0, maxLength: 2 }),
      fc.array(eventArb, { minLength: 1, maxLength: 30 }),
      entryArb('m0'),
      async (m0, m1, events, change) => {
        run++;
        const prefix = `prop${run}-`;
        const { storage } = server();
        // One organization per run and model names of their own: runs do not see each other.
        const orgId = (await makeOrg(server())).id;
        const keyId = (await makeApiKey(server(), orgId)).id;
        const sheet = new Map<string, SheetEntry>();
        for (const e of [...m0, ...m1]) sheet.set(`${e.model}@${e.effectiveFrom}`, { ...e, model: prefix + e.model });
        for (const entry of sheet.values()) await setPrice(storage.db, entry, Date.now());
        const inputs: EventInput[] = events.map((e, i) => ({
          id: `ev${i}`,
          organization_id: orgId,
          api_key_id: e.keyed ? keyId : null,
          model: prefix + e.model,
          neurons: e.neurons,
          synapses: e.synapses,
          timestamp: new Date(e.at).toISOString(),
          ...(e.statedNano === null ? {} : { cost: nanoToDecimal(e.statedNano) }),
        }));
        await ingest(server(), inputs);
        const sent = new Map(events.map((e, i) => [`ev${i}`, e]));
        await assertConsistent(orgId, [...sheet.values()], prefix, sent);

        const changed = { ...change, model: prefix + change.model };
        sheet.set(`m0@${change.effectiveFrom}`, changed);
        await setPrice(storage.db, changed, Date.now());
        await reprice(storage, { model: `${prefix}m0`, from: change.effectiveFrom });
        await assertConsistent(orgId, [...sheet.values()], prefix, sent);
      },
    );
    await fc.assert(property, { numRuns: RUNS });
  });
});
