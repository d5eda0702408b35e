/** Statistics against known values: t-test, Wilcoxon and the t quantile from scipy 1.x (ttest_rel, wilcoxon exact, t.ppf); Holm by hand. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { comparePaired, holm, summarizeValues } from './statistics.js';

const close = (a: number, b: number, tol = 1e-4): void => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test('mean and 95% CI: t-based half-width', () => {
  // x = 1..5: mean 3, sd 1.5811, t(0.975, 4) = 2.776445 -> half-width 1.963243
  const s = summarizeValues([1, 2, 3, 4, 5]);
  close(s.mean, 3);
  close(s.sd, Math.sqrt(2.5));
  close(s.ci95, 1.963243);
  assert.ok(Number.isNaN(summarizeValues([1]).ci95));
});

test('paired t-test and Wilcoxon signed-rank match known values', () => {
  // scipy.stats.ttest_rel(x, y): t = 1.7233, p = 0.159935; scipy.stats.wilcoxon(x, y, method='exact'): W = 3 (V = 12), p = 0.3125
  const x = [0.1, 0.2, 0.15, 0.3, 0.25];
  const y = [0.05, 0.1, 0.2, 0.1, 0.2];
  const c = comparePaired(x, y);
  close(c.tTestP, 0.1599348);
  close(c.wilcoxonP, 0.3125);
  close(c.meanDifference, 0.07);
  close(c.effectSize, 0.07 / Math.sqrt(0.00825));
  // Differences whose statistic sits mid-distribution: scipy.stats.wilcoxon([1, 2, -3], [0, 0, 0],
  // method='exact') gives p = 1.0; @stdlib alone gives 1.25.
  close(comparePaired([1, 2, -3], [0, 0, 0]).wilcoxonP, 1);
  const same = comparePaired([1, 2], [1, 2]);
  assert.equal(same.tTestP, 1);
  assert.throws(() => comparePaired([1], [1, 2]), /differ in length/);
});

test('Holm correction', () => {
  // Holm by hand: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06
  const adjusted = holm([0.01, 0.04, 0.03, 0.005]);
  [0.03, 0.06, 0.06, 0.02].forEach((v, i) => close(adjusted[i]!, v, 1e-12));
  assert.ok(Number.isNaN(holm([NaN, 0.1])[0]));
});
