/**
 * Renders an experiment's statistics (experiment/results.ts): the slides' table per group of
 * settings as plain text, markdown or CSV. Pure functions: values in, string out. Means are printed
 * with the half-width of their 95% CI; a CI or p-value that cannot be computed (one seed) is '-'.
 */
import type { Summary } from '../experiment/statistics.js';
import type { ExperimentResults, ResultsRow, ResultsTable, Tested } from '../experiment/results.js';
import { SLIDES_COLUMNS, table } from './terminal.js';

export const RESULTS_FORMATS = ['table', 'markdown', 'csv', 'json'] as const;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const kebab = (d: string): string => d.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const fixed = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const signed = (v: number, digits: number): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(digits)}` : '-');
export const pValue = (p: number): string => (!Number.isFinite(p) ? '-' : p < 0.001 ? '<0.001' : p.toFixed(3));
const meanCi = (s: Summary, digits = 4, sign = false): string =>
  `${sign ? signed(s.mean, digits) : fixed(s.mean, digits)} ± ${fixed(s.ci95, digits)}`;
const withHolm = (p: number, adjusted: number): string => (Number.isFinite(p) ? `${pValue(p)} (${pValue(adjusted)})` : '-');

function header(results: ExperimentResults, t: ResultsTable): string[] {
  const ref = t.reference === null ? [] : [`vs ${t.reference}`, 'p t (Holm)', 'p W (Holm)'];
  return [...results.by.map(kebab), 'n', ...SLIDES_COLUMNS, 'p t (Holm)', 'p W (Holm)', 'd_z', ...ref];
}

function cells(results: ExperimentResults, t: ResultsTable, r: ResultsRow): string[] {
  const vs = (x: Tested | null): string[] =>
    t.reference === null
      ? []
      : x === null
        ? ['-', '-', '-']
        : [
            `${signed(x.comparison.meanDifference, 4)} ± ${fixed(x.comparison.ci95, 4)}`,
            withHolm(x.comparison.tTestP, x.tTestHolm),
            withHolm(x.comparison.wilcoxonP, x.wilcoxonHolm),
          ];
  return [
    ...results.by.map((d) => r.by[d] ?? '-'),
    String(r.seeds.length),
    meanCi(r.initial),
    meanCi(r.final),
    meanCi(r.control),
    `${r.finishedEarly.count}/${r.finishedEarly.n}`,
    meanCi(r.diffIF, 4, true),
    meanCi(r.diffFC, 4, true),
    withHolm(r.vsControl.comparison.tTestP, r.vsControl.tTestHolm),
    withHolm(r.vsControl.comparison.wilcoxonP, r.vsControl.wilcoxonHolm),
    fixed(r.vsControl.comparison.effectSize, 2),
    ...vs(r.vsReference),
  ];
}

const groupText = (group: Readonly<Record<string, string>>): string => {
  const parts = Object.entries(group).map(([d, v]) => `${kebab(d)} ${v}`);
  return parts.length === 0 ? 'all cells' : parts.join(', ');
};

function friedmanText(results: ExperimentResults, t: ResultsTable): string {
  const f = t.friedman;
  const over = results.by.map(kebab).join(' x ');
  if (!Number.isFinite(f.pValue))
    return (
      `Friedman across ${over} on Final: - (needs at least 3 rows and 2 seeds that every row has; ` +
      `here ${plural(f.treatments, 'row')}, ${plural(f.blocks, 'seed')})`
    );
  return (
    `Friedman across ${over} on Final: chi2 = ${f.statistic.toFixed(3)}, df = ${f.df}, p = ${pValue(f.pValue)} (${f.treatments} ` +
    `rows, ${f.blocks} seeds as blocks)`
  );
}

const LAYER_INTRO =
  'Layer selection vs none: Final with the rule minus Final without layer selection, matched on every other setting, ' +
  'averaged within each seed, paired by seed; Holm across these comparisons.';
const LAYER_HEAD = ['settings', 'comparison', 'seeds', 'matched settings', 'Δ Final', 'p t (Holm)', 'p W (Holm)', 'd_z'];

function layerRows(results: ExperimentResults): string[][] {
  return results.layerSelection.map((c) => [
    groupText(c.group),
    `${c.rule} - none`,
    String(c.tested.comparison.n),
    String(c.settings),
    `${signed(c.tested.comparison.meanDifference, 4)} ± ${fixed(c.tested.comparison.ci95, 4)}`,
    withHolm(c.tested.comparison.tTestP, c.tested.tTestHolm),
    withHolm(c.tested.comparison.wilcoxonP, c.tested.wilcoxonHolm),
    fixed(c.tested.comparison.effectSize, 2),
  ]);
}

function markdownTable(head: string[], rows: string[][]): string {
  const esc = (c: string): string => c.replace(/\|/g, '\\|');
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

function measureText(results: ExperimentResults): string {
  return results.measure === 'accuracy' ? 'test accuracy' : 'mean test recall of the labels buggy at the start';
}

/** The tables as plain text (`table`) or markdown. */
export function renderResults(results: ExperimentResults, format: 'table' | 'markdown', source: string): string {
  const md = format === 'markdown';
  const out: string[] = [
    `${md ? '# ' : ''}Results of ${source}: ${plural(results.cells, 'cell')}, ${plural(results.seeds.length, 'seed')} ` +
      `(${results.seeds.join(', ')}); Initial / Final / Control = ${measureText(results)}.`,
    '',
    'Mean ± half-width of the 95% CI across seeds. p: Final vs Control paired by seed, t-test and Wilcoxon signed-rank, ' +
      'Holm-corrected across the rows of each table in parentheses; d_z: mean difference / sd of the differences.',
  ];
  if (results.cellsWithoutValue > 0)
    out.push(`${results.cellsWithoutValue} cells have no value for this measure (no buggy label at the start) and are left out.`);
  for (const t of results.tables) {
    out.push('', md ? `## ${groupText(t.group)}` : `== ${groupText(t.group)}`, '');
    const head = header(results, t);
    const body = t.rows.map((r) => cells(results, t, r));
    out.push(md ? markdownTable(head, body) : table(head, body), '', friedmanText(results, t));
  }
  if (results.layerSelection.length > 0) {
    const rows = layerRows(results);
    out.push(
      '',
      md ? '## Layer selection vs none' : '== layer selection vs none',
      '',
      LAYER_INTRO,
      '',
      md ? markdownTable(LAYER_HEAD, rows) : table(LAYER_HEAD, rows),
    );
  }
  return out.join('\n') + '\n';
}

const csvCell = (v: string | number | null): string => {
  if (v === null || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One CSV line per row of every table: the table's settings, the row's `by` values, then the figures (empty where not computable). */
export function resultsCsv(results: ExperimentResults): string {
  const groupDims = [...new Set(results.tables.flatMap((t) => Object.keys(t.group)))];
  const stats = ['initial', 'final', 'control', 'diff_if', 'diff_fc'].flatMap((s) => [`${s}_mean`, `${s}_ci95`]);
  const head = [
    ...groupDims.map(kebab),
    ...results.by.map(kebab),
    'measure',
    'n',
    ...stats,
    'finished_early',
    'p_t',
    'p_t_holm',
    'p_wilcoxon',
    'p_wilcoxon_holm',
    'effect_size_dz',
    'reference',
    'vs_reference_diff',
    'vs_reference_ci95',
    'vs_reference_p_t',
    'vs_reference_p_t_holm',
    'vs_reference_p_wilcoxon',
    'vs_reference_p_wilcoxon_holm',
    'friedman_chi2',
    'friedman_p',
  ];
  const lines = [head.join(',')];
  for (const t of results.tables) {
    for (const r of t.rows) {
      const ref = r.vsReference;
      const values: (string | number | null)[] = [
        ...groupDims.map((d) => t.group[d] ?? null),
        ...results.by.map((d) => r.by[d] ?? null),
        results.measure,
        r.seeds.length,
        ...[r.initial, r.final, r.control, r.diffIF, r.diffFC].flatMap((s) => [s.mean, s.ci95]),
        r.finishedEarly.count,
        r.vsControl.comparison.tTestP,
        r.vsControl.tTestHolm,
        r.vsControl.comparison.wilcoxonP,
        r.vsControl.wilcoxonHolm,
        r.vsControl.comparison.effectSize,
        t.reference,
        ref?.comparison.meanDifference ?? null,
        ref?.comparison.ci95 ?? null,
        ref?.comparison.tTestP ?? null,
        ref?.tTestHolm ?? null,
        ref?.comparison.wilcoxonP ?? null,
        ref?.wilcoxonHolm ?? null,
        t.friedman.statistic,
        t.friedman.pValue,
      ];
      lines.push(values.map(csvCell).join(','));
    }
  }
  return lines.join('\n') + '\n';
}
