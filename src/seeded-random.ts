/**
 * A small, fast, seedable pseudo-random generator (mulberry32), for generated data that must
 * come out the same for the same seed: the demo, the benchmark and randomized tests (a failing
 * run replays with its seed). Not for secrets: those come from node:crypto.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
