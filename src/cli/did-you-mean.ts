/** "did you mean --limit?" for a mistyped command, option or value: the closest known name within two edits. */

/**
 * Edits turning `a` into `b`: insert, delete, substitute, or swap two neighbours (Levenshtein
 * plus transpositions, so `rnus` is one edit from `runs`, nearer than from `run`).
 */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name closest to `typed` if it is at most two edits away (and not the whole word rewritten). */
export function closest(typed: string, known: Iterable<string>): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(typed, name);
    if (distance <= 2 && distance < Math.max(typed.length, name.length) && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** `did you mean <prefix><name>?`, or undefined when nothing is close. */
export function didYouMean(typed: string, known: Iterable<string>, prefix = ""): string | undefined {
  const name = closest(typed, known);
  return name === undefined ? undefined : `did you mean ${prefix}${name}?`;
}
