/** "did you mean …?" for a mistyped command, flag or environment: the nearest known word, if one is near. */

/**
 * Edits between two words: insert, delete or replace a character, or swap two neighbours (`prdo` is one
 * edit from `prod`), the optimal string alignment distance.
 */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(at(i, j), at(i - 2, j - 2) + 1);
    }
  }
  return at(a.length, b.length);
}

/**
 * The known word nearest `typed`, when it is near enough to be what was meant: at most a third of its
 * letters changed (at least one edit), or one word starts with the other (`--dry` for `--dry-run`).
 */
export function nearest(typed: string, known: readonly string[]): string | undefined {
  const word = typed.toLowerCase();
  let best: { word: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(word, candidate.toLowerCase());
    if (!best || distance < best.distance) best = { word: candidate, distance };
  }
  if (!best) return undefined;
  if (best.distance <= Math.max(1, Math.floor(best.word.length / 3))) return best.word;
  const prefix = known.find((k) => word.length >= 2 && (k.startsWith(word) || word.startsWith(k)));
  return prefix;
}

/** "; did you mean X?" to end a message with, or nothing when no known word is near. */
export function didYouMean(typed: string, known: readonly string[], show = (w: string) => w): string {
  const found = nearest(typed, known);
  return found ? `; did you mean ${show(found)}?` : "";
}
