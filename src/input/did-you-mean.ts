/**
 * "Did you mean" for a mistyped key: the closest known name within two edits, so `modle` suggests
 * `model` but an unrelated key suggests nothing rather than a random guess.
 */

const MAX_EDITS = 2;

/** The known name closest to `typed` (case-insensitive), if one is within two edits; ties go to the first listed. */
export function closestName(typed: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = MAX_EDITS + 1;
  const t = typed.toLowerCase();
  for (const name of known) {
    const d = editDistance(t, name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Edits (insert, delete, substitute, or swap two neighbours) between `a` and `b`: optimal string
 * alignment distance. Swaps count once because `modle` for `model` is the commonest typo.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < cols; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[rows - 1]![cols - 1]!;
}
