import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../seeded-random.ts';
import { averageCostPerRequest, divideHalfEven, exactNanoToChf, nanoToChf, parseChf, percentage } from './chf.ts';

describe('divideHalfEven', () => {
  const cases: Array<[bigint, bigint, bigint]> = [
    [5n, 2n, 2n], // 2.5 → 2
    [7n, 2n, 4n], // 3.5 → 4
    [-5n, 2n, -2n],
    [-7n, 2n, -4n],
    [26n, 10n, 3n],
    [24n, 10n, 2n],
    [0n, 7n, 0n],
    [9_223_372_036_854_775_807n, 1_000n, 9_223_372_036_854_776n],
  ];
  for (const [n, d, expected] of cases) {
    it(`${n} / ${d} = ${expected}`, () => assert.equal(divideHalfEven(n, d), expected));
  }
  it('rejects a zero divisor', () => assert.throws(() => divideHalfEven(1n, 0n), RangeError));
});

describe('parseChf', () => {
  const cases: Array<[number | string, bigint | undefined]> = [
    [0, 0n],
    ['0', 0n],
    [350.25, 350_250_000_000n],
    ['350.25', 350_250_000_000n],
    [0.1, 100_000_000n],
    [0.000000001, 1n],
    ['0.0000000005', 0n], // tie → even (0)
    ['0.0000000015', 2n], // tie → even (2)
    ['0.00000000151', 2n],
    [1e-7, 100n],
    ['1E3', 1_000_000_000_000n],
    ['12.5e-1', 1_250_000_000n],
    [' 7 ', 7_000_000_000n],
    [-1, undefined],
    ['-0.1', undefined],
    ['1,5', undefined],
    ['', undefined],
    ['abc', undefined],
    ['NaN', undefined],
    ['Infinity', undefined],
    [Number.NaN, undefined],
    [Number.POSITIVE_INFINITY, undefined],
    ['1e999999', undefined],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(String(input))} → ${expected}`, () => assert.equal(parseChf(input), expected));
  }
});

describe('nanoToChf', () => {
  const cases: Array<[bigint, number]> = [
    [0n, 0],
    [350_250_000_000n, 350.25],
    [1_234_567_500n, 1.234568], // ...5 after 6 decimals, 7 odd → up
    [1_234_566_500n, 1.234566], // ...5 after 6 decimals, 6 even → stays
    [499n, 0],
    [500n, 0], // tie → even (0)
    [1_500n, 0.000002],
    [37_500_000_000_000n, 37500],
  ];
  for (const [nano, expected] of cases) {
    it(`${nano} nano → ${expected}`, () => assert.equal(nanoToChf(nano), expected));
  }

  it('answers in doubles as it does in bigints and text, ties and the edge of safe integers included', () => {
    const rand = seededRandom(3);
    const safe = BigInt(Number.MAX_SAFE_INTEGER);
    const amounts: bigint[] = [safe, safe - 500n, safe - 499n, safe + 1n, 2n ** 62n + 500n, 1_000_000_500n, 2_500n];
    for (let i = 0; i < 20_000; i++) {
      const digits = 1 + Math.floor(rand() * 16);
      let nano = BigInt(Math.floor(rand() * 10 ** digits));
      // Every other amount ends in a tie at 0, 2 or 6 decimals.
      const unit = [1_000_000_000n, 10_000_000n, 1_000n][i % 3]!;
      if (i % 2 === 0) nano = (nano / unit) * unit + unit / 2n;
      amounts.push(nano);
    }
    for (const nano of amounts) {
      for (const n of [nano, -nano]) {
        for (const decimals of [0, 2, 6, 9]) {
          assert.equal(nanoToChf(n, decimals), exactNanoToChf(n, decimals), `${n} at ${decimals} decimals`);
        }
      }
    }
  });
});

describe('ratios', () => {
  it('averages 350.25 CHF over 1250 requests to 0.28', () =>
    assert.equal(averageCostPerRequest(350_250_000_000n, 1250n), 0.28));
  it('is 0 without requests', () => assert.equal(averageCostPerRequest(5n, 0n), 0));
  it('computes 350.25 of 500 as 70.05 %', () => assert.equal(percentage(350_250_000_000n, 500_000_000_000n), 70.05));
  it('rounds a percentage tie to even', () => assert.equal(percentage(1n, 800n), 0.12)); // 0.125 → 0.12
  it('is 0 of an empty whole', () => assert.equal(percentage(0n, 0n), 0));
});
