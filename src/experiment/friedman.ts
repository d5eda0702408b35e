/**
 * Friedman's test (@stdlib has none): do k treatments (metrics, strategies) differ, with blocks
 * (seeds) as the unit of replication? Ranks within each block (ties get their mean rank),
 * chi-square statistic 12 / (n k (k+1)) sum R_j^2 - 3 n (k+1) with the tie correction
 * 1 - sum(t^3 - t) / (n k (k^2 - 1)), p from the chi-square distribution with k - 1 degrees of
 * freedom (@stdlib/stats-base-dists-chisquare-cdf). This is what scipy.stats.friedmanchisquare computes;
 * the tests check it against scipy's values.
 */
import { stdlib } from './statistics.js';

export interface FriedmanResult {
  /** Blocks (complete rows) and treatments. */
  readonly blocks: number;
  readonly treatments: number;
  readonly statistic: number;
  readonly df: number;
  /** NaN when the test cannot run (fewer than 2 blocks or 3 treatments, or every block entirely tied). */
  readonly pValue: number;
}

/** Friedman's test on `table[block][treatment]` (every block complete). Needs at least 2 blocks and 3 treatments, as scipy does. */
export function friedman(table: readonly (readonly number[])[]): FriedmanResult {
  const n = table.length;
  const k = table[0]?.length ?? 0;
  if (table.some((row) => row.length !== k)) throw new RangeError('friedman: every block needs a value for every treatment');
  const none = { blocks: n, treatments: k, statistic: NaN, df: Math.max(0, k - 1), pValue: NaN };
  if (n < 2 || k < 3) return none;
  const rankSums = new Array<number>(k).fill(0);
  let ties = 0;
  for (const row of table) {
    const ranks = midRanks(row);
    ranks.forEach((r, j) => (rankSums[j]! += r));
    const counts = new Map<number, number>();
    for (const v of row) counts.set(v, (counts.get(v) ?? 0) + 1);
    for (const t of counts.values()) ties += t ** 3 - t;
  }
  const correction = 1 - ties / (n * k * (k * k - 1));
  if (correction <= 0) return none;
  const statistic = ((12 / (n * k * (k + 1))) * rankSums.reduce((s, r) => s + r * r, 0) - 3 * n * (k + 1)) / correction;
  return { blocks: n, treatments: k, statistic, df: k - 1, pValue: 1 - stdlib().chisquareCdf(statistic, k - 1) };
}

/** Ranks 1..m with tied values sharing their mean rank. */
export function midRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.v === order[start]!.v) end++;
    const rank = (start + end) / 2 + 1;
    for (let p = start; p <= end; p++) ranks[order[p]!.i] = rank;
    start = end + 1;
  }
  return ranks;
}
