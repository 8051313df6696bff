/**
 * A small explicit PRNG so that a seed fully determines every random choice in the topic
 * model and the held-out split: `Math.random` cannot be seeded, and a fixed generator
 * gives identical topics on every machine and Node version.
 */

/**
 * mulberry32 (Tommy Ettinger, public domain): 32 bits of state, period 2^32, passes
 * gjrand/PractRand far enough for sampling. Returns floats in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rejects seeds that would silently collapse (NaN, fractions) onto another seed. */
export function checkSeed(seed: number): number {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  return seed;
}
