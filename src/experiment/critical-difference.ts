/**
 * Ranking strategies across many slices (Demsar 2006, with the post-hoc Benavoli et al. 2016
 * recommend): per block (a slice, or a slice and seed), the treatments are ranked (1 = best, ties share
 * their mean rank); Friedman's test says whether the mean ranks differ at all; every pair is then
 * compared by a Wilcoxon signed-rank test over the blocks, Holm-corrected over the pairs (instead of
 * Nemenyi's critical difference, whose studentized-range table stops at 10 treatments and which
 * compares mean ranks rather than the paired values). The diagram joins, with a bar, each maximal run
 * of treatments in rank order that holds no significantly different pair.
 */
import { friedman, midRanks, type FriedmanResult } from './friedman.js';
import { comparePaired, holm } from './statistics.js';

export interface PairTest {
  readonly a: string;
  readonly b: string;
  /** Wilcoxon signed-rank p over the blocks, and after Holm over every pair. */
  readonly p: number;
  readonly pHolm: number;
  readonly significant: boolean;
}

export interface CriticalDifference {
  /** Treatments best first (by mean rank). */
  readonly treatments: readonly string[];
  readonly meanRanks: readonly number[];
  readonly blocks: number;
  readonly alpha: number;
  readonly friedman: FriedmanResult;
  readonly pairs: readonly PairTest[];
  /** Runs of treatments (positions in `treatments`, first and last) with no significant pair inside: the diagram's bars. */
  readonly cliques: readonly (readonly [number, number])[];
}

/**
 * `table[block][treatment]`: a measure where higher is better (e.g. the buggy labels' recall after
 * repair); every block complete.
 */
export function criticalDifference(table: readonly (readonly number[])[], names: readonly string[], alpha = 0.05): CriticalDifference {
  const k = names.length;
  if (table.some((row) => row.length !== k)) throw new RangeError('criticalDifference: every block needs a value for every treatment');
  // Friedman ranks ascending; negate so that rank 1 is the best (highest) value.
  const rankSums = new Array<number>(k).fill(0);
  for (const row of table) midRanks(row.map((v) => -v)).forEach((r, j) => (rankSums[j]! += r));
  const order = names.map((_, j) => j).sort((a, b) => rankSums[a]! - rankSums[b]! || a - b);
  const column = (j: number): number[] => table.map((row) => row[j]!);
  const raw: { a: number; b: number; p: number }[] = [];
  for (let x = 0; x < k; x++)
    for (let y = x + 1; y < k; y++)
      raw.push({ a: order[x]!, b: order[y]!, p: comparePaired(column(order[x]!), column(order[y]!)).wilcoxonP });
  const adjusted = holm(raw.map((r) => r.p));
  const significantPair = new Set<string>();
  const pairs = raw.map((r, i) => {
    const significant = adjusted[i]! < alpha;
    if (significant) significantPair.add(`${r.a},${r.b}`).add(`${r.b},${r.a}`);
    return { a: names[r.a]!, b: names[r.b]!, p: r.p, pHolm: adjusted[i]!, significant };
  });
  // Maximal runs [i, j] in rank order with no significant pair inside, not contained in another run.
  const cliques: [number, number][] = [];
  for (let i = 0; i < k; i++) {
    let j = i;
    const inside = (to: number): boolean => {
      for (let x = i; x <= to; x++) if (significantPair.has(`${order[x]},${order[to]}`)) return false;
      return true;
    };
    while (j + 1 < k && inside(j + 1)) j++;
    if (j > i && !cliques.some(([a, b]) => a <= i && j <= b)) cliques.push([i, j]);
  }
  const n = table.length;
  return {
    treatments: order.map((j) => names[j]!),
    meanRanks: order.map((j) => rankSums[j]! / n),
    blocks: n,
    alpha,
    friedman: friedman(table),
    pairs,
    cliques,
  };
}
