/** Deterministic train / held-out split of document indices. */
import { checkSeed, mulberry32 } from "./random.js";

export interface HeldOutSplit {
  /** Document indices, ascending. */
  train: number[];
  heldOut: number[];
}

/**
 * Holds out round(fraction · n) documents chosen by a seeded Fisher-Yates shuffle, so the
 * same (n, fraction, seed) always holds out the same documents. At least one document stays
 * on each side when n >= 2, so neither the model nor the coherence score gets an empty set.
 */
export function splitHeldOut(n: number, options: { fraction?: number; seed?: number } = {}): HeldOutSplit {
  const fraction = options.fraction ?? 0.2;
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`fraction must be in (0, 1), got ${fraction}`);
  const random = mulberry32(checkSeed(options.seed ?? 1));
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const nHeldOut = n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
  const byIndex = (a: number, b: number) => a - b;
  return { train: order.slice(nHeldOut).sort(byIndex), heldOut: order.slice(0, nHeldOut).sort(byIndex) };
}
