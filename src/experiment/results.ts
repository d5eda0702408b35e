/**
 * The statistics of an experiment's store (docs/method.md section 9): the slides' table (Initial, Final
 * and Control accuracy, Finished Early, Diff I-F, Diff F-C) with one row per value of the `by`
 * dimension(s), each as mean and 95% CI across seeds; paired tests of Final vs Control by seed (paired
 * t and Wilcoxon signed-rank, effect size d_z), optionally of each row vs a reference row
 * (targeted-random), Holm-corrected across the rows of a table; Friedman's test across the rows
 * (blocks: seeds); and layer selection vs none, paired by seed and every other setting.
 *
 * One table per combination of the other settings that vary in the store, so a row never mixes
 * settings: `--by metric` on the replication preset gives one table per layer selection rule and
 * retraining regime, as the slides have one table with layer selection and one without. A cell whose
 * setting does not apply (null: layer selection for targeted-random) joins every table of that setting.
 * The seed is the unit of replication: with one seed, CIs and p-values are NaN (printed '-').
 */
import { LAYER_SELECTION_RULES } from '../analysis/index.js';
import { METRIC_NAMES } from '../select/metrics.js';
import { STRATEGY_KINDS, STRATEGY_SETTINGS } from '../select/strategies.js';
import { cellDimensions, DIMENSIONS, STRATEGY_PARTS, type CellSettings, type Dimension } from './experiment-config.js';
import { friedman, type FriedmanResult } from './friedman.js';
import { RETRAIN_REGIMES } from './repair-config.js';
import { comparePaired, holm, summarizeValues, type PairedComparison, type Summary } from './statistics.js';
import type { RepairDoc } from './repair-doc.js';
import type { StoredCell } from './store.js';

/**
 * What Initial / Final / Control measure: overall test accuracy (the slides'), or the mean test
 * recall of the labels buggy at the start.
 */
export const MEASURES = ['accuracy', 'buggy'] as const;
export type Measure = (typeof MEASURES)[number];

export interface ResultsOptions {
  readonly by: readonly Dimension[];
  readonly measure: Measure;
  /** Strategy (describeStrategy text or name) every row is also compared with, when it is a row of the table; null: none. */
  readonly reference: string | null;
}

export interface CellValues {
  readonly seed: number;
  readonly initial: number;
  readonly final: number;
  readonly control: number;
  readonly finishedEarly: boolean;
}

export interface Tested {
  readonly comparison: PairedComparison;
  /** Holm-adjusted p-values within the family (the table's rows, or the layer-selection comparisons). */
  readonly tTestHolm: number;
  readonly wilcoxonHolm: number;
}

export interface ResultsRow {
  /** The row's value of each `by` dimension (null: not applicable). */
  readonly by: Readonly<Record<string, string | null>>;
  readonly seeds: number[];
  readonly initial: Summary;
  readonly final: Summary;
  readonly control: Summary;
  readonly finishedEarly: { readonly count: number; readonly n: number };
  readonly diffIF: Summary;
  readonly diffFC: Summary;
  /** Final vs Control, paired by seed. */
  readonly vsControl: Tested;
  /** Final vs the reference row's Final, paired by seed (null for the reference row itself or without one). */
  readonly vsReference: Tested | null;
}

export interface ResultsTable {
  /** Values of the other varying settings that define this table. */
  readonly group: Readonly<Record<string, string>>;
  readonly rows: ResultsRow[];
  /** The reference row's `by` label, when the table has it. */
  readonly reference: string | null;
  /** Friedman across the rows on Final (blocks: seeds every row has). */
  readonly friedman: FriedmanResult;
}

export interface LayerSelectionComparison {
  readonly group: Readonly<Record<string, string>>;
  readonly rule: string;
  /** Settings (cells per seed) averaged within each seed. */
  readonly settings: number;
  /** Final of `rule` minus Final of `none`, per seed averaged over the matched settings, paired by seed. */
  readonly tested: Tested;
}

export interface ExperimentResults {
  readonly measure: Measure;
  readonly by: readonly Dimension[];
  readonly cells: number;
  /** Cells without a value for the measure (no buggy label at the start, for `buggy`). */
  readonly cellsWithoutValue: number;
  readonly seeds: number[];
  readonly tables: ResultsTable[];
  readonly layerSelection: LayerSelectionComparison[];
}

/** Per-cell values of the measure; null when the cell has none. */
function cellValues(cell: StoredCell, measure: Measure): CellValues | null {
  const result = cell.result;
  const row = result.table[0];
  const arm = result.arms[0];
  const control = result.arms.find((a) => a.control);
  if (row === undefined || arm === undefined || control === undefined) return null;
  if (measure === 'accuracy')
    return {
      seed: cell.config.seed,
      initial: row.initialAcc,
      final: row.finalAcc,
      control: row.controlAcc,
      finishedEarly: row.finishedEarly,
    };
  const n = arm.iterations.length;
  const initial = buggyRecall(result, result.initial.test.perLabel);
  if (initial === null) return null;
  return {
    seed: cell.config.seed,
    initial,
    final: buggyRecall(result, metricsAfter(result, arm, n, 'test').perLabel)!,
    control: buggyRecall(result, metricsAfter(result, control, n, 'test').perLabel)!,
    finishedEarly: arm.finishedEarly,
  };
}

type Metrics = { readonly accuracy: number | null; readonly perLabel: readonly (number | null)[] };

/** An arm's metrics on `split` after `n` iterations: the initial model's for 0, the arm's last where it stopped earlier. */
export function metricsAfter(result: RepairDoc, arm: RepairDoc['arms'][number], n: number, split: 'validation' | 'test'): Metrics {
  return n === 0 ? result.initial[split] : arm.iterations[Math.min(n, arm.iterations.length) - 1]![split];
}

/** The mean recall of the labels buggy at the start; null when no label was (a label without inputs, null in JSON, counts as NaN). */
export function buggyRecall(result: RepairDoc, perLabel: readonly (number | null)[]): number | null {
  const labels = result.initial.bugs.map((b) => b.label);
  return labels.length === 0 ? null : labels.reduce((s, l) => s + (perLabel[l] ?? NaN), 0) / labels.length;
}

/** Dimensions a grouping by `by` must not split tables by: `by` itself, and the strategy or its parts. */
function coveredBy(by: readonly Dimension[]): Set<Dimension> {
  const covered = new Set<Dimension>(by);
  if (by.includes('strategy')) STRATEGY_PARTS.forEach((d) => covered.add(d));
  if (by.some((d) => (STRATEGY_PARTS as readonly string[]).includes(d))) covered.add('strategy');
  // The strategy is always described by its parts when splitting.
  covered.add('strategy');
  return covered;
}

const ENUM_ORDER: Partial<Record<Dimension, readonly string[]>> = {
  metric: METRIC_NAMES,
  strategyName: STRATEGY_KINDS,
  ...Object.fromEntries(Object.entries(STRATEGY_SETTINGS).map(([key, s]) => [key, s.values])),
  layerSelection: LAYER_SELECTION_RULES,
  retrain: RETRAIN_REGIMES,
};

type CompareValues = (d: Dimension, a: string | null, b: string | null) => number;

/**
 * Orders values of a dimension: strategies by their kind's place in the table first, known tables in
 * their own order, numbers numerically, then text; null last. `entries` tell each strategy's kind.
 */
function valueOrder(entries: readonly Entry[]): CompareValues {
  const kindOf = new Map(entries.map((e) => [e.dims.strategy, e.dims.strategyName]));
  const compare: CompareValues = (d, a, b) => {
    if (a === b) return 0;
    if (a === null) return 1;
    if (b === null) return -1;
    if (d === 'strategy') {
      const byKind = compare('strategyName', kindOf.get(a) ?? null, kindOf.get(b) ?? null);
      if (byKind !== 0) return byKind;
    }
    return compareKnown(d, a, b);
  };
  return compare;
}

function compareKnown(d: Dimension, a: string, b: string): number {
  const order = ENUM_ORDER[d];
  if (order !== undefined && order.includes(a) && order.includes(b)) return order.indexOf(a) - order.indexOf(b);
  const [x, y] = [Number(a), Number(b)];
  if (Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : 1;
}

const dimsKey = (dims: readonly Dimension[], values: Readonly<Record<string, string | null>>): string =>
  JSON.stringify(dims.map((d) => values[d] ?? null));

interface Entry {
  readonly dims: Record<Dimension, string | null>;
  readonly values: CellValues;
}

/**
 * comparePaired, with nothing claimed from a single pair: with fewer than 2 seeds the CI, effect size
 * and p-values are NaN (comparePaired itself reports p = 1 for all-zero differences of any length).
 */
export function paired(a: readonly number[], b: readonly number[]): PairedComparison {
  const c = comparePaired(a, b);
  return c.n >= 2 ? c : { ...c, ci95: NaN, effectSize: NaN, tTestP: NaN, wilcoxonP: NaN };
}

/** Holm-adjusts a family of paired comparisons (t and Wilcoxon p-values separately). */
export function tested(comparisons: PairedComparison[]): Tested[] {
  const t = holm(comparisons.map((c) => c.tTestP));
  const w = holm(comparisons.map((c) => c.wilcoxonP));
  return comparisons.map((comparison, i) => ({ comparison, tTestHolm: t[i]!, wilcoxonHolm: w[i]! }));
}

/** One value per seed: the mean of that seed's cells (a row has one cell per seed unless settings collapse into it). */
function perSeed(entries: readonly Entry[], pick: (v: CellValues) => number): Map<number, number> {
  const sums = new Map<number, { s: number; n: number }>();
  for (const e of entries) {
    const acc = sums.get(e.values.seed) ?? { s: 0, n: 0 };
    acc.s += pick(e.values);
    acc.n += 1;
    sums.set(e.values.seed, acc);
  }
  return new Map([...sums].map(([seed, { s, n }]) => [seed, s / n]));
}

export function summarizeResults(cells: readonly StoredCell[], options: ResultsOptions): ExperimentResults {
  const entries: Entry[] = [];
  let withoutValue = 0;
  for (const cell of cells) {
    const values = cellValues(cell, options.measure);
    if (values === null) withoutValue += 1;
    else entries.push({ dims: cellDimensions(cell), values });
  }
  const by = options.by;
  const covered = coveredBy(by);
  const varying = DIMENSIONS.filter((d) => !covered.has(d) && new Set(entries.map((e) => e.dims[d]).filter((v) => v !== null)).size > 1);
  const compare = valueOrder(entries);
  const tables = groupTables(entries, varying, compare).map(({ group, members }) =>
    buildTable(group, members, by, options.reference, compare),
  );
  const seeds = [...new Set(entries.map((e) => e.values.seed))].sort((a, b) => a - b);
  return {
    measure: options.measure,
    by,
    cells: cells.length,
    cellsWithoutValue: withoutValue,
    seeds,
    tables,
    layerSelection: compareLayerSelection(entries, by, compare),
  };
}

/** Tables: one per combination of the varying dimensions' values; a null value joins every table. */
function groupTables(
  entries: readonly Entry[],
  varying: readonly Dimension[],
  compareValues: CompareValues,
): { group: Record<string, string>; members: Entry[] }[] {
  const combos = new Map<string, Record<string, string>>();
  for (const e of entries) {
    if (varying.some((d) => e.dims[d] === null)) continue;
    const group = Object.fromEntries(varying.map((d) => [d, e.dims[d]!]));
    combos.set(dimsKey(varying, group), group);
  }
  if (combos.size === 0 && entries.length > 0) combos.set('[]', {});
  const sorted = [...combos.values()].sort((a, b) => {
    for (const d of varying) {
      const c = compareValues(d, a[d]!, b[d]!);
      if (c !== 0) return c;
    }
    return 0;
  });
  return sorted.map((group) => ({
    group,
    members: entries.filter((e) => varying.every((d) => e.dims[d] === null || e.dims[d] === group[d])),
  }));
}

function buildTable(
  group: Record<string, string>,
  members: readonly Entry[],
  by: readonly Dimension[],
  reference: string | null,
  compareValues: CompareValues,
): ResultsTable {
  const rowsByKey = new Map<string, { by: Record<string, string | null>; entries: Entry[] }>();
  for (const e of members) {
    const values = Object.fromEntries(by.map((d) => [d, e.dims[d]]));
    const key = dimsKey(by, values);
    const row = rowsByKey.get(key) ?? { by: values, entries: [] };
    row.entries.push(e);
    rowsByKey.set(key, row);
  }
  const rows = [...rowsByKey.values()].sort((a, b) => {
    for (const d of by) {
      const c = compareValues(d, a.by[d] ?? null, b.by[d] ?? null);
      if (c !== 0) return c;
    }
    return 0;
  });
  // A reference row exists only where rows are strategies.
  const byStrategy = by.includes('strategy') || by.includes('strategyName');
  const referenceRow =
    reference === null || !byStrategy
      ? undefined
      : rows.find((r) => r.entries.every((e) => e.dims.strategy === reference || e.dims.strategyName === reference));
  const finalOf = (entries: readonly Entry[]): Map<number, number> => perSeed(entries, (v) => v.final);
  const bySeed = (a: Map<number, number>, b: Map<number, number>): PairedComparison => {
    const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
    return paired(
      seeds.map((s) => a.get(s)!),
      seeds.map((s) => b.get(s)!),
    );
  };
  const vsControl = tested(
    rows.map((r) =>
      bySeed(
        finalOf(r.entries),
        perSeed(r.entries, (v) => v.control),
      ),
    ),
  );
  const referenceFinal = referenceRow === undefined ? null : finalOf(referenceRow.entries);
  const againstReference = rows.map((r) =>
    referenceFinal === null || r === referenceRow ? null : bySeed(finalOf(r.entries), referenceFinal),
  );
  const referenceTested = tested(againstReference.filter((c): c is PairedComparison => c !== null));
  let k = 0;
  const out: ResultsRow[] = rows.map((r, i) => {
    const summary = (pick: (v: CellValues) => number): Summary => summarizeValues([...perSeed(r.entries, pick).values()]);
    const early = perSeed(r.entries, (v) => (v.finishedEarly ? 1 : 0));
    return {
      by: r.by,
      seeds: [...new Set(r.entries.map((e) => e.values.seed))].sort((a, b) => a - b),
      initial: summary((v) => v.initial),
      final: summary((v) => v.final),
      control: summary((v) => v.control),
      finishedEarly: { count: [...early.values()].reduce((s, x) => s + x, 0), n: early.size },
      diffIF: summary((v) => v.final - v.initial),
      diffFC: summary((v) => v.final - v.control),
      vsControl: vsControl[i]!,
      vsReference: againstReference[i] === null ? null : referenceTested[k++]!,
    };
  });
  // Friedman across rows: blocks are the seeds every row has.
  const finals = rows.map((r) => finalOf(r.entries));
  const common = [...(finals[0]?.keys() ?? [])].filter((s) => finals.every((f) => f.has(s))).sort((a, b) => a - b);
  return {
    group,
    rows: out,
    reference: referenceRow === undefined ? null : by.map((d) => referenceRow.by[d] ?? '-').join(' '),
    friedman: friedman(common.map((s) => finals.map((f) => f.get(s)!))),
  };
}

/**
 * Layer selection vs none: a cell with a rule is matched with the cell that has 'none' and every other
 * setting (and the seed) equal. Within each seed the matched Finals are averaged over the settings
 * that `by` spans (e.g. the metrics), so seeds stay the unit of replication; one comparison per rule
 * and per combination of the other varying settings, Holm-corrected together.
 */
function compareLayerSelection(
  entries: readonly Entry[],
  by: readonly Dimension[],
  compareValues: CompareValues,
): LayerSelectionComparison[] {
  const withRule = entries.filter((e) => e.dims.layerSelection !== null);
  const rules = [...new Set(withRule.map((e) => e.dims.layerSelection!))]
    .filter((r) => r !== 'none')
    .sort((a, b) => compareValues('layerSelection', a, b));
  if (rules.length === 0 || !withRule.some((e) => e.dims.layerSelection === 'none')) return [];
  const matchDims = DIMENSIONS.filter((d) => d !== 'layerSelection');
  const noneByKey = new Map<string, Entry>();
  for (const e of withRule) if (e.dims.layerSelection === 'none') noneByKey.set(dimsKey(matchDims, e.dims) + e.values.seed, e);
  const covered = coveredBy([...by, 'layerSelection']);
  const splitDims = DIMENSIONS.filter((d) => !covered.has(d) && new Set(withRule.map((e) => e.dims[d]).filter((v) => v !== null)).size > 1);
  const found: { group: Record<string, string>; rule: string; settings: number; comparison: PairedComparison }[] = [];
  for (const rule of rules) {
    const groups = new Map<
      string,
      { group: Record<string, string>; perSeed: Map<number, { a: number; b: number; n: number }>; settings: Set<string> }
    >();
    for (const e of withRule) {
      if (e.dims.layerSelection !== rule) continue;
      const partner = noneByKey.get(dimsKey(matchDims, e.dims) + e.values.seed);
      if (partner === undefined) continue;
      const group = Object.fromEntries(splitDims.map((d) => [d, e.dims[d] ?? '-']));
      const key = dimsKey(splitDims, group);
      const g = groups.get(key) ?? { group, perSeed: new Map(), settings: new Set<string>() };
      const acc = g.perSeed.get(e.values.seed) ?? { a: 0, b: 0, n: 0 };
      acc.a += e.values.final;
      acc.b += partner.values.final;
      acc.n += 1;
      g.perSeed.set(e.values.seed, acc);
      g.settings.add(dimsKey(matchDims, e.dims));
      groups.set(key, g);
    }
    for (const g of groups.values()) {
      const seeds = [...g.perSeed.keys()].sort((x, y) => x - y);
      const comparison = paired(
        seeds.map((s) => g.perSeed.get(s)!.a / g.perSeed.get(s)!.n),
        seeds.map((s) => g.perSeed.get(s)!.b / g.perSeed.get(s)!.n),
      );
      found.push({ group: g.group, rule, settings: g.settings.size, comparison });
    }
  }
  const adjusted = tested(found.map((f) => f.comparison));
  return found.map((f, i) => ({ group: f.group, rule: f.rule, settings: f.settings, tested: adjusted[i]! }));
}

export { DIMENSION_FLAGS } from './experiment-config.js';

/** Mean validation accuracy per iteration (0: before repair) of each row of a results table, and of the control. */
export interface TableCurves {
  /** One curve per row of the table, in row order; null where no cell of the row has that iteration. */
  readonly rows: readonly (readonly (number | null)[])[];
  /** The mean over the rows of each row's mean control. */
  readonly control: readonly (number | null)[];
}

/** The cells' places in `results`: each table whose group the cell matches (a null setting matches every table), and its row there. */
function placeCell(results: ExperimentResults, cell: CellSettings): { table: number; row: number }[] {
  const dims = cellDimensions(cell);
  const places: { table: number; row: number }[] = [];
  results.tables.forEach((t, ti) => {
    if (!Object.entries(t.group).every(([d, v]) => dims[d as Dimension] === null || dims[d as Dimension] === v)) return;
    const ri = t.rows.findIndex((r) => results.by.every((d) => (r.by[d] ?? null) === dims[d]));
    if (ri >= 0) places.push({ table: ti, row: ri });
  });
  return places;
}

/** Validation accuracy per iteration of every table of `results` (made from these cells), averaged per row over its cells. */
export function validationCurves(cells: readonly StoredCell[], results: ExperimentResults): TableCurves[] {
  type Sum = { s: number; n: number };
  const add = (acc: Sum[], i: number, v: number | null): void => {
    if (v === null) return;
    acc[i] ??= { s: 0, n: 0 };
    acc[i]!.s += v;
    acc[i]!.n += 1;
  };
  const mean = (acc: readonly Sum[]): (number | null)[] => Array.from(acc, (x) => (x === undefined ? null : x.s / x.n));
  const places = cells.map((cell) => placeCell(results, cell));
  return results.tables.map((t, ti) => {
    const sums = t.rows.map(() => ({ arm: [] as Sum[], control: [] as Sum[] }));
    cells.forEach((cell, c) => {
      for (const place of places[c]!) {
        if (place.table !== ti) continue;
        const arm = cell.result.arms.find((a) => !a.control);
        const control = cell.result.arms.find((a) => a.control);
        // The initial validation accuracy is the curves' start.
        const start = cell.result.initial.validation.accuracy;
        add(sums[place.row]!.arm, 0, start);
        add(sums[place.row]!.control, 0, start);
        arm?.iterations.forEach((it) => add(sums[place.row]!.arm, it.iteration, it.validation.accuracy));
        control?.iterations.forEach((it) => add(sums[place.row]!.control, it.iteration, it.validation.accuracy));
      }
    });
    const control = sums.reduce<Sum[]>((all, s) => {
      s.control.forEach((x, i) => add(all, i, x.s / x.n));
      return all;
    }, []);
    return { rows: sums.map((s) => mean(s.arm)), control: mean(control) };
  });
}
