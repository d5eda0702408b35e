/**
 * Renders a benchmark's statistics (experiment/benchmark.ts) as plain text: per slice a table of the
 * strategies (mean ± 95% CI of the final value, differences with the control, targeted-random and the
 * best baseline with their Holm-adjusted p-values), then the mean ranks across slices per role, with
 * Friedman's p and the groups no test separates, then the verdict. Pure: values in, string out.
 */
import type { BenchmarkRanking, BenchmarkSummary, BenchmarkRow } from '../experiment/benchmark.js';
import type { CriticalDifference } from '../experiment/critical-difference.js';
import type { Tested } from '../experiment/results.js';
import { strategyTitle } from '../select/strategies.js';
import { pValue } from './results-table.js';
import { table } from './terminal.js';

const fixed = (v: number, digits = 4): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const signed = (v: number, digits = 4): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(digits)}` : '-');

/** The columns of one comparison: the mean difference, and its Holm-adjusted t and Wilcoxon p-values. */
function comparison(t: Tested | null): string[] {
  if (t === null) return ['-', '-'];
  return [signed(t.comparison.meanDifference), `${pValue(t.tTestHolm)} / ${pValue(t.wilcoxonHolm)}`];
}

export const BENCHMARK_HEAD = [
  'strategy',
  'n',
  'Final',
  'Δ control',
  'Holm p t / W',
  'Δ targeted-random',
  'Holm p t / W',
  'Δ best baseline',
  'Holm p t / W',
];

export function benchmarkRowCells(r: BenchmarkRow): string[] {
  return [
    r.strategy,
    String(r.seeds.length),
    `${fixed(r.final.mean)} ± ${fixed(r.final.ci95)}`,
    ...comparison(r.vsControl),
    ...comparison(r.vsTargetedRandom),
    ...comparison(r.vsBestBaseline),
  ];
}

/** The ranking of one role as lines: mean ranks, Friedman, the groups joined by a bar. */
export function rankingLines(r: BenchmarkRanking): string[] {
  const left = r.incomplete.length === 0 ? '' : `; left out, a strategy lacking there: ${r.incomplete.join(', ')}`;
  const head = `${r.role}: ${r.slices.length} slice${r.slices.length === 1 ? '' : 's'} as blocks${left}`;
  const cd = r.cd;
  if (cd === null) return [`${head}; no ranking (it needs at least 2 slices where every strategy has values)`];
  const f = cd.friedman;
  return [
    head,
    `  mean rank (1 = best): ${cd.treatments.map((t, i) => `${t} ${cd.meanRanks[i]!.toFixed(2)}`).join(', ')}`,
    `  Friedman: ${Number.isFinite(f.pValue) ? `chi2 = ${f.statistic.toFixed(3)}, df = ${f.df}, p = ${pValue(f.pValue)}` : '-'}`,
    `  not significantly different (Wilcoxon over the slices, Holm, alpha ${cd.alpha}): ` +
      (cd.cliques.length === 0
        ? 'none (every pair differs)'
        : cd.cliques.map(([i, j]) => `[${cd.treatments.slice(i, j + 1).join(', ')}]`).join(' ')),
  ];
}

/** A ranking with its strategies named for reading (`mode (hc, least, ...)`), as its diagram shows them. */
export function titledCd(cd: CriticalDifference): CriticalDifference {
  return { ...cd, treatments: cd.treatments.map(strategyTitle) };
}

/** The title of a ranking's critical-difference diagram. */
export function cdTitle(summary: BenchmarkSummary, r: BenchmarkRanking): string {
  const measure = summary.measure === 'accuracy' ? 'accuracy' : 'buggy labels';
  const role = r.role === 'all' ? '' : `${r.role} `;
  return `Mean ranks across ${r.slices.length} ${role}slices: ${measure} on ${summary.split} after the repair`;
}

export function renderBenchmark(summary: BenchmarkSummary, source = ''): string {
  const measure = summary.measure === 'accuracy' ? 'accuracy' : 'mean recall of the labels buggy at the start';
  const out: string[] = [
    `Benchmark${source === '' ? '' : ` of ${source}`}: ${summary.cells} cells, ${summary.slices.length} slices; Final = ${measure} ` +
      `on ${summary.split} after the repair.`,
    'Mean ± half-width of the 95% CI across seeds (a seed: the mean of its cells in the slice). Δ: Final minus the reference, ' +
      'paired by seed; Holm p of the paired t-test / Wilcoxon, each reference a family across the rows of the slice. ' +
      'Control: random selection (each cell its own). Best baseline: the literature baseline with the highest mean Final there.',
  ];
  if (summary.cellsWithoutValue > 0)
    out.push(`${summary.cellsWithoutValue} cells have no value for this measure (no buggy label at the start) and are left out.`);
  if (summary.cellsOutsideSlices > 0) out.push(`${summary.cellsOutsideSlices} cells belong to no slice of the config and are left out.`);
  for (const slice of summary.slices) {
    out.push(
      '',
      `== ${slice.name} (${slice.role}, ${slice.cells} cells); best baseline: ${slice.bestBaseline ?? 'none'}`,
      '',
      table(BENCHMARK_HEAD, slice.rows.map(benchmarkRowCells)),
    );
  }
  out.push('', '== ranks across slices (blocks: slices; each strategy its mean Final there)', '');
  for (const r of summary.rankings) out.push(...rankingLines(r));
  out.push('', `Verdict: ${summary.verdict.text}`);
  return out.join('\n') + '\n';
}
