// "Did you mean" for typos in field names.

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The candidate nearest to `word`, if it is close enough to be a likely typo. */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Up to `limit` candidates a person may have meant, nearest first: those within typo distance and
 * those containing the word (a partial name). Ties keep the candidates' order.
 */
export function closestMatches(word: string, candidates: readonly string[], limit = 5): string[] {
  const lower = word.toLowerCase();
  const maxDistance = Math.max(2, Math.floor(word.length / 3));
  return candidates
    .map((candidate) => {
      const distance = editDistance(lower, candidate.toLowerCase());
      return { candidate, rank: candidate.toLowerCase().includes(lower) ? Math.min(distance, 1) : distance };
    })
    .filter(({ rank }) => rank <= maxDistance)
    .sort((a, b) => a.rank - b.rank)
    .slice(0, limit)
    .map(({ candidate }) => candidate);
}
