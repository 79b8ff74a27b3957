import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventCostNano, MAX_PRICE_PICO, PICO_PER_CHF, parsePricePico, picoToDecimal } from './cost.ts';
import { PriceBook, type PriceEntry, PriceSheet } from './price-sheet.ts';

const chf = (text: string) => parsePricePico(text)!;
const price = (neurons: string, synapses: string) => ({ neuronsPico: chf(neurons), synapsesPico: chf(synapses) });
const INT64_MAX = 2n ** 63n - 1n;

describe('eventCostNano', () => {
  const cases: Array<[string, bigint, bigint, { neuronsPico: bigint; synapsesPico: bigint }, bigint]> = [
    ['zero usage', 0n, 0n, price('8.00', '80.00'), 0n],
    ['one neuron at 8.00 CHF per 1M', 1n, 0n, price('8.00', '80.00'), 8_000n],
    ['one synapse at 4.80 CHF per 1M', 0n, 1n, price('8.00', '4.80'), 4_800n],
    ['1M of each', 1_000_000n, 1_000_000n, price('8.00', '80.00'), 88n * 1_000_000_000n],
    [
      'a price with 12 decimals, exact before the one rounding',
      0n,
      1_000_000n,
      price('0', '12.123456789012'),
      12_123_456_789n,
    ],
    ['the smallest price on 10^12 units', 1_000_000_000_000n, 0n, price('0.000000000001', '0'), 1_000n],
    ['tie rounds to even (down)', 500_000_000n, 0n, price('0.000000000001', '0'), 0n],
    ['tie rounds to even (up)', 1_500_000_000n, 0n, price('0.000000000001', '0'), 2n],
    ['tie at 2.5 rounds to 2', 2_500_000_000n, 0n, price('0.000000000001', '0'), 2n],
    ['just above a tie rounds up', 500_000_001n, 0n, price('0.000000000001', '0'), 1n],
    // 0.4 + 0.4 nano: rounding each part would give 0, one rounding per event gives 1.
    ['one rounding for both parts', 400_000_000n, 400_000_000n, price('0.000000000001', '0.000000000001'), 1n],
    ['exactly the largest signed 64-bit cost', INT64_MAX, 0n, price('0.001', '0'), INT64_MAX],
    [
      'largest units at the largest price, past 64 bits without overflow',
      1_000_000_000_000n,
      1_000_000_000_000n,
      { neuronsPico: MAX_PRICE_PICO, synapsesPico: MAX_PRICE_PICO },
      2_000_000_000_000_000_000_000n,
    ],
  ];
  for (const [name, neurons, synapses, p, expected] of cases) {
    it(name, () => assert.equal(eventCostNano({ neurons, synapses }, p), expected));
  }
});

describe('eventCostNano with cache parts and reasoning', () => {
  const P = '0.000000000001'; // one pico-CHF per 1M units: a thousandth of a nano-CHF per 1000 units
  const withCache = (neurons: string, synapses: string, cached: string | null, cacheWrite: string | null) => ({
    ...price(neurons, synapses),
    cachedNeuronsPico: cached === null ? null : chf(cached),
    cacheWriteNeuronsPico: cacheWrite === null ? null : chf(cacheWrite),
  });
  type Units = { neurons: bigint; synapses: bigint; cachedNeurons?: bigint; cacheWriteNeurons?: bigint };
  const cases: Array<[string, Units, ReturnType<typeof withCache>, bigint]> = [
    [
      'without cache prices the parts cost what neurons cost',
      { neurons: 1000n, cachedNeurons: 400n, cacheWriteNeurons: 100n, synapses: 0n },
      withCache('8', '80', null, null),
      8_000_000n,
    ],
    [
      'each part at its own price',
      { neurons: 1000n, cachedNeurons: 400n, cacheWriteNeurons: 100n, synapses: 10n },
      withCache('8', '80', '0.8', '10'),
      // 500 × 8 + 400 × 0.8 + 100 × 10 + 10 × 80 CHF per 1M = 6120 µCHF
      6_120_000n,
    ],
    [
      'a cached price of 0 is a price, not an absent one',
      { neurons: 1_000_000_000n, cachedNeurons: 500_000_000n, synapses: 0n },
      withCache(P, '0', '0', null),
      0n, // 0.5 nano: a tie, to even
    ],
    [
      'the cached price falls back alone',
      { neurons: 1_000_000_000n, cachedNeurons: 500_000_000n, synapses: 0n },
      withCache(P, '0', null, '0'),
      1n,
    ],
    [
      'cached units at a tie round to even (down)',
      { neurons: 500_000_000n, cachedNeurons: 500_000_000n, synapses: 0n },
      withCache('1', '0', P, null),
      0n,
    ],
    [
      'cached units at a tie round to even (up)',
      { neurons: 1_500_000_000n, cachedNeurons: 1_500_000_000n, synapses: 0n },
      withCache('1', '0', P, null),
      2n,
    ],
    [
      'cache writes at a tie round to even',
      { neurons: 2_500_000_000n, cacheWriteNeurons: 2_500_000_000n, synapses: 0n },
      withCache('1', '0', null, P),
      2n,
    ],
    [
      'one rounding for all parts: 0.4 + 0.4 + 0.2 nano is 1, not 0',
      { neurons: 1_000_000_000n, cachedNeurons: 400_000_000n, cacheWriteNeurons: 400_000_000n, synapses: 0n },
      withCache(P, '0', P, P),
      1n,
    ],
    [
      'parts and synapses meet at a tie: 1.5 nano rounds to 2',
      { neurons: 1_000_000_000n, cachedNeurons: 1_000_000_000n, synapses: 500_000_000n },
      withCache('0', P, P, null),
      2n,
    ],
    [
      'the cache parts together are all the neurons',
      { neurons: 1_000_000n, cachedNeurons: 600_000n, cacheWriteNeurons: 400_000n, synapses: 0n },
      withCache('999', '0', '1', '2'),
      // 0.6 × 1 + 0.4 × 2 CHF = 1.4 CHF; the neuron price applies to nothing
      1_400_000_000n,
    ],
  ];
  for (const [name, units, p, expected] of cases) {
    it(name, () => assert.equal(eventCostNano(units, p), expected));
  }
  it('prices reasoning synapses as synapses (a tie to even either way)', () => {
    const p = withCache('0', P, null, null);
    const plain = { neurons: 0n, synapses: 2_500_000_000n };
    const reasoning = { ...plain, reasoningSynapses: 2_500_000_000n };
    assert.equal(eventCostNano(reasoning, p), 2n);
    assert.equal(eventCostNano(reasoning, p), eventCostNano(plain, p));
  });
});

describe("PriceBook: an organization's own prices", () => {
  const at = (iso: string) => Date.parse(iso);
  const entry = (model: string, from: string, neurons: string): PriceEntry => ({
    model,
    effectiveFrom: at(from),
    ...price(neurons, '1'),
  });
  const book = new PriceBook(
    new PriceSheet([entry('gpt-x', '2025-01-01T00:00:00Z', '8'), entry('claude-*', '2025-01-01T00:00:00Z', '3')]),
    new Map([
      ['org_a', [entry('gpt-x', '2025-06-01T00:00:00Z', '6'), entry('claude-*-haiku*', '2025-01-01T00:00:00Z', '1')]],
    ]),
  );
  const neuronPrice = (org: string, model: string, time: number) => {
    const found = book.priceAt(org, model, time);
    return found && `${picoToDecimal(found.neuronsPico)} ${found.source}`;
  };
  const T = at('2025-06-01T00:00:00Z');
  const cases: Array<[string, string, string, number, string | undefined]> = [
    ["one millisecond before its own price: the platform's", 'org_a', 'gpt-x', T - 1, '8.00 platform'],
    ['at its own price: its own', 'org_a', 'gpt-x', T, '6.00 organization'],
    ['another organization: the platform', 'org_b', 'gpt-x', T, '8.00 platform'],
    ['its own pattern', 'org_a', 'claude-3-haiku', T, '1.00 organization'],
    ["the platform's pattern where its own does not match", 'org_a', 'claude-opus-4', T, '3.00 platform'],
    ['neither', 'org_a', 'mystery', T, undefined],
  ];
  for (const [name, org, model, time, expected] of cases) {
    it(name, () => assert.equal(neuronPrice(org, model, time), expected));
  }
  it("lists the organization's sheet: its own entries over the platform's, each with its source", () => {
    assert.deepEqual(
      book.sheetAt('org_a', T).map((e) => [e.model, picoToDecimal(e.neuronsPico), e.source]),
      [
        ['claude-*', '3.00', 'platform'],
        ['claude-*-haiku*', '1.00', 'organization'],
        ['gpt-x', '6.00', 'organization'],
      ],
    );
    assert.deepEqual(book.sheetAt('org_a', T - 1).find((e) => e.model === 'gpt-x')?.source, 'platform');
  });
});

describe('parsePricePico and picoToDecimal', () => {
  const parses: Array<[number | string, bigint | undefined]> = [
    ['8', 8n * PICO_PER_CHF],
    ['8.00', 8n * PICO_PER_CHF],
    [8, 8n * PICO_PER_CHF],
    [0.15, 150_000_000_000n],
    [' 4.80 ', 4_800_000_000_000n],
    ['0.000000000001', 1n],
    [1e-7, 100_000n],
    ['1e-12', 1n],
    ['1000000', MAX_PRICE_PICO],
    ['1.0000000000001', undefined], // 13 decimals: never rounded silently
    ['1000000.000000000001', undefined],
    ['-1', undefined],
    ['1,5', undefined],
    [Number.NaN, undefined],
  ];
  for (const [input, expected] of parses) {
    it(`parses ${JSON.stringify(input)}`, () => assert.equal(parsePricePico(input), expected));
  }
  const prints: Array<[bigint, string]> = [
    [8n * PICO_PER_CHF, '8.00'],
    [150_000_000_000n, '0.15'],
    [1n, '0.000000000001'],
    [12_123_456_789_012n, '12.123456789012'],
  ];
  for (const [pico, text] of prints) {
    it(`prints ${text}`, () => assert.equal(picoToDecimal(pico), text));
  }
});

describe('PriceSheet.priceAt', () => {
  const T1 = Date.parse('2025-06-01T00:00:00Z');
  const entry = (model: string, from: string, synapses: string): PriceEntry => ({
    model,
    effectiveFrom: Date.parse(from),
    ...price('8', synapses),
  });
  const sheet = new PriceSheet([
    entry('gpt-x', '2025-06-01T00:00:00Z', '2'),
    entry('gpt-x', '2025-01-01T00:00:00Z', '1'),
    entry('gpt-4o', '2024-01-01T00:00:00Z', '80'),
    entry('claude-3-5-sonnet', '2024-01-01T00:00:00Z', '120'),
    entry('claude-*', '2024-01-01T00:00:00Z', '50'),
    entry('claude-*-haiku*', '2024-01-01T00:00:00Z', '30'),
    entry('claude-3-5-sonnet-special', '2024-01-01T00:00:00Z', '999'),
  ]);
  const synapsePrice = (model: string, at: number) => {
    const found = sheet.priceAt(model, at);
    return found && picoToDecimal(found.synapsesPico);
  };
  const cases: Array<[string, string, number, string | undefined]> = [
    ['before the first price: none', 'gpt-x', Date.parse('2024-12-31T23:59:59.999Z'), undefined],
    ['one millisecond before a change: the old price', 'gpt-x', T1 - 1, '1.00'],
    ['exactly at a change: the new price', 'gpt-x', T1, '2.00'],
    ['after a change: the new price', 'gpt-x', T1 + 1, '2.00'],
    ['a dated snapshot takes its base price', 'gpt-4o-2024-08-06', T1, '80.00'],
    ['a compact dated snapshot too', 'claude-3-5-sonnet-20241022', T1, '120.00'],
    ['a sibling model is not a snapshot', 'gpt-4o-mini', T1, undefined],
    ['the exact name first', 'claude-3-5-sonnet-special', T1, '999.00'],
    ['the most specific pattern', 'claude-3-haiku-20240307', T1, '30.00'],
    ['a broad pattern', 'claude-opus-4', T1, '50.00'],
    ['unknown', 'mystery-model', T1, undefined],
  ];
  for (const [name, model, at, expected] of cases) {
    it(name, () => assert.equal(synapsePrice(model, at), expected));
  }
  it('lists the sheet in force at a time, one entry per model', () => {
    const at = sheet.sheetAt(T1 - 1);
    assert.deepEqual(
      at.filter((e) => e.model === 'gpt-x').map((e) => picoToDecimal(e.synapsesPico)),
      ['1.00'],
    );
    assert.equal(at.length, 6);
  });
  it('says which models a reprice of a sheet key covers', () => {
    assert.equal(PriceSheet.covers('gpt-4o', 'gpt-4o-2024-08-06'), true);
    assert.equal(PriceSheet.covers('gpt-4o', 'gpt-4o-mini'), false);
    assert.equal(PriceSheet.covers('claude-*', 'claude-opus-4'), true);
  });
});
