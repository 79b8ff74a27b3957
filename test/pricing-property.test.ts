/**
 * Property: for random price sheets and random events (some stating their cost, some of an
 * unknown model, some exactly at a price change), every stored cost is what an independent
 * computation says, and the rollup totals equal the sum of the per-event costs exactly — after
 * ingestion and again after a price change and a reprice. On both engines.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { checkRollups } from '../src/modules/ingestion/rollup-check.ts';
import { setPrice } from '../src/modules/pricing/pricing.service.ts';
import { reprice } from '../src/modules/pricing/reprice.ts';
import { CHF, type EventInput, forEachDialect, ingest, makeApiKey, makeOrg, nanoToDecimal } from './harness.ts';

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

  async function assertConsistent(orgId: string, sheet: readonly SheetEntry[], prefix: string) {
    const db = server().storage.db;
    const rows = await db
      .selectFrom('usage_events')
      .select(['model', 'api_key_id', 'neurons', 'synapses', 'cost_nano', 'cost_source', 'occurred_at'])
      .where('organization_id', '=', orgId)
      .execute();
    let sum = 0n;
    let keyedSum = 0n;
    for (const row of rows) {
      const cost = BigInt(row.cost_nano);
      if (row.cost_source !== 'reported') {
        const model = row.model.slice(prefix.length);
        const expected = expectedCost(
          sheet.map((e) => ({ ...e, model: e.model.slice(prefix.length) })),
          model,
          BigInt(row.neurons),
          BigInt(row.synapses),
          Number(row.occurred_at),
        );
        assert.equal(cost, expected, `${row.model} at ${new Date(Number(row.occurred_at)).toISOString()}`);
      }
      sum += cost;
      if (row.api_key_id !== null) keyedSum += cost;
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
        await assertConsistent(orgId, [...sheet.values()], prefix);

        const changed = { ...change, model: prefix + change.model };
        sheet.set(`m0@${change.effectiveFrom}`, changed);
        await setPrice(storage.db, changed, Date.now());
        await reprice(storage, { model: `${prefix}m0`, from: change.effectiveFrom });
        await assertConsistent(orgId, [...sheet.values()], prefix);
      },
    );
    await fc.assert(property, { numRuns: 25 });
  });
});
