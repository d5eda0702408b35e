/**
 * Statistics across seeds: mean and 95% confidence interval, paired t-test and Wilcoxon signed-rank
 * test (from @stdlib, checked against known values in tests), paired effect size, Holm correction.
 */
import { createRequire } from 'node:module';
import type ChisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import type TQuantile from '@stdlib/stats-base-dists-t-quantile';
import type Ttest from '@stdlib/stats-ttest';
import type Wilcoxon from '@stdlib/stats-wilcoxon';

// Loaded at first use: these are 800 modules, 0.2 s that every `mode` command paid at start.
const require = createRequire(import.meta.url);
let loaded: { tQuantile: typeof TQuantile; ttest: typeof Ttest; wilcoxon: typeof Wilcoxon; chisquareCdf: typeof ChisquareCdf } | undefined;
/** The @stdlib functions used here and by friedman.ts, loaded at the first call. */
export const stdlib = (): NonNullable<typeof loaded> =>
  (loaded ??= {
    tQuantile: require('@stdlib/stats-base-dists-t-quantile') as typeof TQuantile,
    ttest: require('@stdlib/stats-ttest') as typeof Ttest,
    wilcoxon: require('@stdlib/stats-wilcoxon') as typeof Wilcoxon,
    chisquareCdf: require('@stdlib/stats-base-dists-chisquare-cdf') as typeof ChisquareCdf,
  });

export interface Summary {
  readonly n: number;
  readonly mean: number;
  readonly sd: number;
  /** Half-width of the 95% confidence interval of the mean (t distribution); NaN for n < 2. */
  readonly ci95: number;
}

export function summarizeValues(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { n, mean: NaN, sd: NaN, ci95: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean, sd: NaN, ci95: NaN };
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { n, mean, sd, ci95: stdlib().tQuantile(0.975, n - 1) * (sd / Math.sqrt(n)) };
}

export interface PairedComparison {
  readonly n: number;
  /** Mean of a - b. */
  readonly meanDifference: number;
  readonly ci95: number;
  /** Cohen's d_z: mean difference / sd of the differences. */
  readonly effectSize: number;
  readonly tTestP: number;
  readonly wilcoxonP: number;
}

/** Paired comparison of a and b (same seeds, same order). p-values are NaN where a test cannot run. */
export function comparePaired(a: readonly number[], b: readonly number[]): PairedComparison {
  if (a.length !== b.length) throw new RangeError(`paired samples differ in length: ${a.length} and ${b.length}`);
  const differences = a.map((v, i) => v - b[i]!);
  const s = summarizeValues(differences);
  const allZero = differences.every((d) => d === 0);
  let tTestP = NaN;
  let wilcoxonP = NaN;
  if (a.length >= 2 && !allZero && s.sd > 0) tTestP = stdlib().ttest(a as number[], b as number[]).pValue;
  else if (allZero) tTestP = 1;
  if (a.length >= 2 && !allZero) {
    try {
      // @stdlib doubles the smaller tail, which exceeds 1 when the statistic sits at the middle of its exact distribution.
      wilcoxonP = Math.min(1, stdlib().wilcoxon(a as number[], b as number[], { zeroMethod: 'wilcox', exact: a.length <= 25 }).pValue);
    } catch {
      wilcoxonP = NaN;
    }
  } else if (allZero) wilcoxonP = 1;
  return { n: a.length, meanDifference: s.mean, ci95: s.ci95, effectSize: s.sd > 0 ? s.mean / s.sd : NaN, tTestP, wilcoxonP };
}

/** Holm-Bonferroni adjusted p-values, in the input order (NaN stays NaN). */
export function holm(pValues: readonly number[]): number[] {
  const order = pValues
    .map((p, i) => ({ p, i }))
    .filter((e) => !Number.isNaN(e.p))
    .sort((x, y) => x.p - y.p);
  const m = order.length;
  const adjusted = pValues.map(() => NaN);
  let running = 0;
  order.forEach((e, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * e.p));
    adjusted[e.i] = running;
  });
  return adjusted;
}
