/**
 * The views of an experiment's store: the slides' table per group of settings (mean ± 95% CI across
 * seeds, paired tests vs the control with Holm, the best cells marked), on test accuracy and on the
 * labels buggy at the start; validation accuracy per iteration averaged per row with the control; and
 * the list of cells.
 */
import type { BenchmarkSummary } from '../../experiment/benchmark.js';
import type { ExperimentResults, ResultsRow, ResultsTable, Tested } from '../../experiment/results.js';
import { BENCHMARK_HEAD, benchmarkRowCells, cdTitle, rankingLines, titledCd } from '../benchmark-table.js';
import { renderCdDiagram } from '../png/index.js';
import { CONTROL_COLOUR, chartHtml, fitRange, seriesStyle, type ChartSeries } from './chart.js';
import type { StoreContent } from './content.js';
import { pValue } from '../results-table.js';
import { SLIDES_COLUMNS } from '../terminal.js';
import { escapeHtml, fraction, htmlTable, pngDataUri, section, signedFraction, type Cell } from './html.js';
import { armTitle } from './repair-view.js';

/** Significance level at which a Holm-adjusted p-value is set in bold. */
const ALPHA_LEVEL = 0.05;

const kebab = (d: string): string => d.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const groupText = (group: Readonly<Record<string, string>>): string => {
  const parts = Object.entries(group).map(([d, v]) => `${kebab(d)} ${v}`);
  return parts.length === 0 ? 'all cells' : parts.join(', ');
};
const rowName = (results: ExperimentResults, r: ResultsRow): string => results.by.map((d) => armTitle(r.by[d] ?? '-')).join(' \u00B7 ');
const meanCi = (mean: number, ci: number, signed = false): string =>
  `${signed ? signedFraction(mean) : fraction(mean)} \u00B1 ${fraction(ci)}`;
/** A mean with the half-width of its 95% CI under it, smaller: keeps the wide tables narrow. */
const meanCiCell = (mean: number, ci: number, signed = false): Cell => ({
  text: meanCi(mean, ci, signed),
  html: `${signed ? signedFraction(mean) : fraction(mean)}<span class="ci">\u00B1 ${fraction(ci)}</span>`,
});

function bestRows(values: readonly number[]): Set<number> {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length < 2) return new Set();
  const top = Math.max(...finite);
  if (finite.every((v) => v === top)) return new Set();
  return new Set(values.map((v, i) => (v === top ? i : -1)).filter((i) => i >= 0));
}

function pCell(tested: Tested, which: 't' | 'w'): Cell {
  const p = which === 't' ? tested.comparison.tTestP : tested.comparison.wilcoxonP;
  const holm = which === 't' ? tested.tTestHolm : tested.wilcoxonHolm;
  if (!Number.isFinite(p)) return { text: '-', title: 'needs at least 2 seeds' };
  const significant = Number.isFinite(holm) && holm < ALPHA_LEVEL;
  return {
    text: `${pValue(p)} (${pValue(holm)})`,
    ...(significant ? { className: 'signif', title: `Holm-adjusted p < ${ALPHA_LEVEL}` } : {}),
  };
}

function resultsTableHtml(results: ExperimentResults, t: ResultsTable, id: string): string {
  const finals = t.rows.map((r) => r.final.mean);
  const winners = {
    final: bestRows(finals),
    diffIF: bestRows(t.rows.map((r) => r.diffIF.mean)),
    diffFC: bestRows(t.rows.map((r) => r.diffFC.mean)),
  };
  const mark = (set: Set<number>, i: number, what: string): Partial<Cell> =>
    set.has(i) ? { className: 'best', title: `highest mean ${what} of this table` } : {};
  const head: (Cell | string)[] = [
    results.by.map(kebab).join(' \u00B7 '),
    { text: 'n', title: 'seeds' },
    ...SLIDES_COLUMNS,
    { text: 'p t (Holm)', title: 'paired t-test of Final vs Control by seed; Holm-adjusted across the rows in parentheses' },
    { text: 'p W (Holm)', title: 'Wilcoxon signed-rank test of Final vs Control by seed; Holm-adjusted in parentheses' },
    { text: 'd_z', title: 'effect size: mean difference / sd of the differences' },
  ];
  if (t.reference !== null)
    head.push(
      { text: `vs ${armTitle(t.reference)}`, title: "Final minus the reference row's Final, paired by seed" },
      'p t (Holm)',
      'p W (Holm)',
    );
  const rows = t.rows.map((r, i): Cell[] => {
    const cells: Cell[] = [
      { text: rowName(results, r) },
      { text: String(r.seeds.length) },
      meanCiCell(r.initial.mean, r.initial.ci95),
      { ...meanCiCell(r.final.mean, r.final.ci95), ...mark(winners.final, i, 'Final') },
      meanCiCell(r.control.mean, r.control.ci95),
      { text: `${r.finishedEarly.count}/${r.finishedEarly.n}` },
      { ...meanCiCell(r.diffIF.mean, r.diffIF.ci95, true), ...mark(winners.diffIF, i, 'Diff I-F') },
      { ...meanCiCell(r.diffFC.mean, r.diffFC.ci95, true), ...mark(winners.diffFC, i, 'Diff F-C') },
      pCell(r.vsControl, 't'),
      pCell(r.vsControl, 'w'),
      { text: Number.isFinite(r.vsControl.comparison.effectSize) ? r.vsControl.comparison.effectSize.toFixed(2) : '-' },
    ];
    if (t.reference !== null) {
      const x = r.vsReference;
      cells.push(
        x === null ? { text: '-' } : meanCiCell(x.comparison.meanDifference, x.comparison.ci95, true),
        x === null ? { text: '-' } : pCell(x, 't'),
        x === null ? { text: '-' } : pCell(x, 'w'),
      );
    }
    return cells;
  });
  const f = t.friedman;
  const friedman = Number.isFinite(f.pValue)
    ? `Friedman across the rows on Final: \u03C7\u00B2 = ${f.statistic.toFixed(3)}, df = ${f.df}, ` +
      `p = ${pValue(f.pValue)} (${f.treatments} rows, ${f.blocks} seeds as blocks).`
    : `Friedman across the rows on Final: not computable (needs at least 3 rows and 2 seeds that every row has; ` +
      `here ${f.treatments} rows, ${f.blocks} seeds).`;
  return `${htmlTable({ id, caption: groupText(t.group), head, rows })}<p class="legend-note">${escapeHtml(friedman)}</p>`;
}

function measureText(results: ExperimentResults): string {
  return results.measure === 'accuracy' ? "test accuracy (the slides' measure)" : 'mean test accuracy of the labels buggy at the start';
}

function resultsBlock(results: ExperimentResults, id: string): string {
  const intro =
    `Initial / Final / Control = ${measureText(results)}. Mean \u00B1 half-width of the 95% CI across ` +
    `${results.seeds.length} seed${results.seeds.length === 1 ? '' : 's'}. p: Final vs Control paired by seed, ` +
    `Holm-adjusted across the rows of a table in parentheses (bold below ${ALPHA_LEVEL}); \u2605 the best mean of a column.`;
  const without =
    results.cellsWithoutValue > 0
      ? ` ${results.cellsWithoutValue} cells have no value for this measure (no buggy label at the start) and are left out.`
      : '';
  const tables = results.tables.map((t, k) => resultsTableHtml(results, t, `${id}-${k}`)).join('\n');
  const layer =
    results.layerSelection.length === 0
      ? ''
      : htmlTable({
          caption:
            'Layer selection vs none: Final with the rule minus Final without, matched on every other setting, ' +
            'averaged within each seed, paired by seed; Holm across these comparisons',
          head: ['settings', 'comparison', 'seeds', 'matched settings', '\u0394 Final', 'p t (Holm)', 'p W (Holm)', 'd_z'],
          rows: results.layerSelection.map((c) => [
            groupText(c.group),
            `${c.rule} \u2212 none`,
            String(c.tested.comparison.n),
            String(c.settings),
            meanCiCell(c.tested.comparison.meanDifference, c.tested.comparison.ci95, true),
            pCell(c.tested, 't'),
            pCell(c.tested, 'w'),
            Number.isFinite(c.tested.comparison.effectSize) ? c.tested.comparison.effectSize.toFixed(2) : '-',
          ]),
        });
  return `<p class="lead">${escapeHtml(intro + without)}</p>${tables}${layer}`;
}

/** Mean validation accuracy per iteration of each row of each table, and of the control (store.curves), as charts. */
function storeCurves(store: StoreContent, idPrefix: string): string {
  const results = store.accuracy;
  return results.tables
    .map((t, ti) => {
      const curves = store.curves[ti]!;
      const length = Math.max(0, ...curves.rows.map((r) => r.length), curves.control.length);
      if (length < 2) return '';
      const categories = Array.from({ length }, (_, i) => (i === 0 ? 'start' : String(i)));
      const padded = (values: readonly (number | null)[]): (number | null)[] => categories.map((_, i) => values[i] ?? null);
      const series: ChartSeries[] = t.rows.map((r, i) => ({
        name: rowName(results, r),
        values: padded(curves.rows[i]!),
        ...seriesStyle([0, 2, 6, 8, 4, 7, 9, 3, 5, 1][i % 10]!),
        emphasis: false,
      }));
      series.push({ name: 'control (random)', values: padded(curves.control), colour: CONTROL_COLOUR, dash: true, point: 'rectRot' });
      return chartHtml({
        id: `${idPrefix}-${ti}`,
        kind: 'line',
        title: `Validation accuracy per iteration: ${groupText(t.group)}`,
        xLabel: 'iteration (start = before repair)',
        yLabel: 'mean validation accuracy over seeds',
        categories,
        series,
        yRange: fitRange(series.flatMap((s) => s.values)),
        caption: "Each row of the table above, averaged over its cells (seeds); the control is the mean of the rows' controls.",
      });
    })
    .join('\n');
}

function cellList(store: StoreContent, id: string): string {
  const rows = store.cells.map((c) => {
    const row = c.result.table[0];
    return [
      c.label,
      String(c.config.seed),
      fraction(row?.initialAcc),
      fraction(row?.finalAcc),
      fraction(row?.controlAcc),
      signedFraction(row?.diffFC),
      row?.finishedEarly === true ? '1' : '0',
      `${c.seconds.toFixed(1)} s`,
    ];
  });
  const table = htmlTable({
    id,
    head: ['cell', 'seed', 'Initial Acc', 'Final Acc', 'Control Acc', 'Diff F-C', 'Finished Early', 'time'],
    rows,
    className: 'data compact',
  });
  return store.cells.length > 30 ? `<details><summary>${store.cells.length} cells</summary>${table}</details>` : table;
}

/** The benchmark across slices: a table per slice, then per role the mean ranks, Friedman and the critical-difference diagram. */
function benchmarkBlock(b: BenchmarkSummary, id: string): string {
  const intro =
    `Final = ${b.measure === 'accuracy' ? 'accuracy' : 'mean recall of the labels buggy at the start'} on ${b.split} after the repair, ` +
    'mean \u00B1 half-width of the 95% CI across seeds (a seed: the mean of its cells in the slice). \u0394: Final minus the ' +
    'control (random selection), targeted-random, or the best literature baseline of the slice, paired by seed; Holm-adjusted p of ' +
    'the paired t-test / Wilcoxon, each reference a family across the rows of the slice.';
  const left = [
    b.cellsWithoutValue > 0 ? `${b.cellsWithoutValue} cells have no value for this measure (no buggy label at the start).` : '',
    b.cellsOutsideSlices > 0 ? `${b.cellsOutsideSlices} cells belong to no slice.` : '',
  ].join(' ');
  const tables = b.slices
    .map((slice, k) =>
      htmlTable({
        id: `${id}-slice-${k}`,
        caption: `${slice.name} (${slice.role}, ${slice.cells} cells); best baseline: ${slice.bestBaseline ?? 'none'}`,
        head: BENCHMARK_HEAD,
        rows: slice.rows.map((r) => [armTitle(r.strategy), ...benchmarkRowCells(r).slice(1)]),
      }),
    )
    .join('\n');
  const rankings = b.rankings
    .map((r) => {
      const lines = rankingLines(r).map((l) => `<li>${escapeHtml(l.trim())}</li>`);
      const figure =
        r.cd === null
          ? ''
          : `<figure><img src="${pngDataUri(renderCdDiagram(titledCd(r.cd), cdTitle(b, r)))}" alt="${escapeHtml(cdTitle(b, r))}"></figure>`;
      return `<ul class="legend-note">${lines.join('')}</ul>${figure}`;
    })
    .join('\n');
  return (
    `<p class="lead">${escapeHtml(`${intro} ${left}`.trim())}</p>${tables}` +
    `<h3>Ranks across slices</h3>${rankings}<p class="lead"><b>Verdict:</b> ${escapeHtml(b.verdict.text)}</p>`
  );
}

export function storeSections(store: StoreContent, idPrefix = 'store'): { id: string; title: string; html: string }[] {
  const failed =
    store.failures === 0
      ? ''
      : ` ${store.failures} cells failed and are not in these tables; the same \`mode experiment\` command runs them again.`;
  return [
    {
      id: `${idPrefix}-results`,
      title: 'Results',
      html: section(
        `${idPrefix}-results`,
        "Results: the slides' table",
        escapeHtml(`${store.cells.length} cells, seeds ${store.accuracy.seeds.join(', ')}.${failed}`),
        resultsBlock(store.accuracy, `${idPrefix}-accuracy`),
      ),
    },
    {
      id: `${idPrefix}-buggy`,
      title: 'Buggy labels',
      html: section(
        `${idPrefix}-buggy`,
        'Results on the labels buggy at the start',
        '',
        resultsBlock(store.buggy, `${idPrefix}-buggy-table`),
      ),
    },
    ...(store.benchmark === null
      ? []
      : [
          {
            id: `${idPrefix}-benchmark`,
            title: 'Benchmark',
            html: section(
              `${idPrefix}-benchmark`,
              'Benchmark: statistics across slices',
              '',
              benchmarkBlock(store.benchmark, `${idPrefix}-benchmark`),
            ),
          },
        ]),
    {
      id: `${idPrefix}-curves`,
      title: 'Curves',
      html: section(`${idPrefix}-curves`, 'Validation accuracy per iteration', '', storeCurves(store, `${idPrefix}-curve`)),
    },
    {
      id: `${idPrefix}-cells`,
      title: 'Cells',
      html: section(`${idPrefix}-cells`, 'Cells', 'One repair and its control each.', cellList(store, `${idPrefix}-cell-table`)),
    },
  ];
}
