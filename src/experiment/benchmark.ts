/**
 * Statistics across the slices of a benchmark (issue 17): per slice and strategy, the final value of
 * the measure (after the repair) as mean and 95% CI across seeds, and paired-by-seed comparisons (paired
 * t and Wilcoxon) with three references, each family Holm-corrected across the slice's rows: the
 * control (random selection, each cell's own control arm), targeted-random, and the slice's best
 * literature baseline (BASELINE_KINDS, the one with the highest mean). Across slices, per role and for
 * all slices: a critical-difference analysis (Friedman, pairwise Wilcoxon with Holm, cliques) whose
 * blocks are the slices (each strategy's mean over seeds) and whose treatments are the strategies.
 * Then a verdict: does a MODE-informed strategy beat the best baseline on at least half of the
 * confirmation slices?
 *
 * The seed is the unit of replication: where a slice holds several datasets, scenarios or models, a
 * strategy's value for a seed is the mean over the slice's cells of that seed. The science rule of the
 * issue: choices are made on VALIDATION figures of development slices only, and reported on TEST;
 * `split` says which of the two every value is read from (the repair's iterations hold both).
 */
import { ModeError, usageError } from '../core/errors.js';
import { STRATEGY_KINDS, type StrategyKind } from '../select/strategies.js';
import { criticalDifference, type CriticalDifference } from './critical-difference.js';
import {
  cellDimensions,
  DIMENSIONS,
  sliceOfCell,
  SLICE_ROLES,
  STRATEGY_PARTS,
  ExperimentConfigSchema,
  type Dimension,
  type ExperimentConfig,
  type Slice,
  type SliceRole,
} from './experiment-config.js';
import type { RepairDoc } from './repair-doc.js';
import { buggyRecall, metricsAfter, paired, tested, type Measure, type Tested } from './results.js';
import { summarizeValues, type PairedComparison, type Summary } from './statistics.js';
import type { StoredCell } from './store.js';

/**
 * The literature baselines, defined once here: a slice's best baseline is the one of these with the
 * highest mean final value there. Every other strategy but the references (random, targeted-random) is
 * MODE-informed (mode and its readings, confusion-margin, mode-diversity).
 */
export const BASELINE_KINDS = [
  'entropy',
  'margin',
  'deepgini',
  'least-confidence',
  'badge',
  'coreset',
  'bald',
  'dsa',
  'targeted-uncertainty',
] as const satisfies readonly StrategyKind[];

/** The references every strategy is compared with (random is each cell's control arm). */
const REFERENCE_KINDS = ['random', 'targeted-random'] as const satisfies readonly StrategyKind[];
const TARGETED_RANDOM = 'targeted-random';

type StrategyGroup = 'informed' | 'baseline' | 'reference';

function strategyGroup(kind: StrategyKind): StrategyGroup {
  if ((BASELINE_KINDS as readonly string[]).includes(kind)) return 'baseline';
  if ((REFERENCE_KINDS as readonly string[]).includes(kind)) return 'reference';
  return 'informed';
}

/** Which evaluation the values are read from: validation (for choosing) or test (for reporting). */
export const BENCHMARK_SPLITS = ['validation', 'test'] as const;
export type BenchmarkSplit = (typeof BENCHMARK_SPLITS)[number];

/** Holm-adjusted paired t p below which a strategy 'beats' the best baseline on a slice (the issue's rule). */
const VERDICT_ALPHA = 0.01;

export interface BenchmarkOptions {
  readonly measure: Measure;
  readonly split: BenchmarkSplit;
}

export interface BenchmarkRow {
  /** The strategy's canonical text. */
  readonly strategy: string;
  readonly kind: StrategyKind;
  readonly group: StrategyGroup;
  readonly seeds: readonly number[];
  /** The measure after the repair, one value per seed. */
  readonly final: Summary;
  /** The same of the cells' own control arms (random selection at the same budget). */
  readonly control: Summary;
  /** Final minus the control's, paired by seed; Holm across the slice's rows. */
  readonly vsControl: Tested;
  /** Final minus targeted-random's; null for targeted-random itself or where the slice lacks it. */
  readonly vsTargetedRandom: Tested | null;
  /** Final minus the slice's best baseline's; null for that baseline itself or where the slice has no baseline. */
  readonly vsBestBaseline: Tested | null;
}

export interface BenchmarkSlice {
  readonly name: string;
  readonly role: SliceRole;
  readonly cells: number;
  /** Rows in the order of the strategy table. */
  readonly rows: readonly BenchmarkRow[];
  /** The baseline (BASELINE_KINDS) with the highest mean final value here; null where the slice has none. */
  readonly bestBaseline: string | null;
}

export interface BenchmarkRanking {
  readonly role: SliceRole | 'all';
  /** The slices used as blocks: those of the role where every strategy has a value. */
  readonly slices: readonly string[];
  /** Slices of the role left out because a strategy has no value there. */
  readonly incomplete: readonly string[];
  /** null with fewer than 2 blocks or 2 strategies. */
  readonly cd: CriticalDifference | null;
}

interface InformedVerdict {
  readonly strategy: string;
  /** Confirmation slices where it beats the best baseline: mean difference > 0 and Holm-adjusted paired t p < VERDICT_ALPHA. */
  readonly wins: readonly string[];
  readonly beats: boolean;
}

interface BenchmarkVerdict {
  readonly confirmationSlices: number;
  readonly informed: readonly InformedVerdict[];
  /** The strategy with the lowest mean rank on confirmation slices, and its lead over the runner-up. */
  readonly best: {
    readonly strategy: string;
    readonly meanRank: number;
    readonly runnerUp: string;
    readonly runnerUpMeanRank: number;
    /** Mean over the confirmation blocks of (its final value minus the runner-up's). */
    readonly meanDifference: number;
  } | null;
  readonly text: string;
}

export interface BenchmarkSummary {
  readonly measure: Measure;
  readonly split: BenchmarkSplit;
  readonly cells: number;
  /** Cells without a value for the measure (no buggy label at the start, for `buggy`). */
  readonly cellsWithoutValue: number;
  /** Cells of no slice of the config (left out). */
  readonly cellsOutsideSlices: number;
  readonly slices: readonly BenchmarkSlice[];
  /** Development, confirmation, all. */
  readonly rankings: readonly BenchmarkRanking[];
  readonly verdict: BenchmarkVerdict;
}

interface Values {
  readonly seed: number;
  readonly final: number;
  readonly control: number;
}

/** The measure after the repair on `split`, of the cell's arm and of its control at the same iteration; null when it has none. */
export function finalValues(cell: StoredCell, measure: Measure, split: BenchmarkSplit): Values | null {
  const result: RepairDoc = cell.result;
  const arm = result.arms.find((a) => !a.control);
  const control = result.arms.find((a) => a.control);
  if (arm === undefined || control === undefined) return null;
  const n = arm.iterations.length;
  const after = (a: RepairDoc['arms'][number]): ReturnType<typeof metricsAfter> => metricsAfter(result, a, n, split);
  if (measure === 'accuracy') return { seed: cell.config.seed, final: after(arm).accuracy ?? NaN, control: after(control).accuracy ?? NaN };
  const final = buggyRecall(result, after(arm).perLabel);
  if (final === null) return null;
  return { seed: cell.config.seed, final, control: buggyRecall(result, after(control).perLabel)! };
}

/** Settings a benchmark's rows may not mix: all but the slice's (dataset, scenario, model) and the strategy. */
const MIXED: readonly Dimension[] = DIMENSIONS.filter(
  (d) => !['dataset', 'scenario', 'model', 'strategy', ...STRATEGY_PARTS].includes(d as string),
);

/** The slices of a recorded config (a store's latest run), or null where it has none or does not parse. */
function slicesOfRecorded(config: unknown): Slice[] | null {
  const parsed = ExperimentConfigSchema.safeParse(config);
  return parsed.success ? (parsed.data.slices ?? null) : null;
}

const compareStrategies = (a: { kind: StrategyKind; strategy: string }, b: { kind: StrategyKind; strategy: string }): number =>
  STRATEGY_KINDS.indexOf(a.kind) - STRATEGY_KINDS.indexOf(b.kind) || (a.strategy < b.strategy ? -1 : a.strategy > b.strategy ? 1 : 0);

/** Per seed, the mean of that seed's values. */
function perSeed(values: readonly Values[], pick: (v: Values) => number): Map<number, number> {
  const sums = new Map<number, { s: number; n: number }>();
  for (const v of values) {
    const acc = sums.get(v.seed) ?? { s: 0, n: 0 };
    acc.s += pick(v);
    acc.n += 1;
    sums.set(v.seed, acc);
  }
  return new Map([...sums].sort(([a], [b]) => a - b).map(([seed, { s, n }]) => [seed, s / n]));
}

function bySeed(a: Map<number, number>, b: Map<number, number>): PairedComparison {
  const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
  return paired(
    seeds.map((s) => a.get(s)!),
    seeds.map((s) => b.get(s)!),
  );
}

/** Holm within a family of which some rows have no comparison (null). */
function family(comparisons: readonly (PairedComparison | null)[]): (Tested | null)[] {
  const adjusted = tested(comparisons.filter((c): c is PairedComparison => c !== null));
  let k = 0;
  return comparisons.map((c) => (c === null ? null : adjusted[k++]!));
}

function sliceSummary(name: string, role: SliceRole, cells: readonly { cell: StoredCell; values: Values }[]): BenchmarkSlice {
  const byStrategy = new Map<string, { kind: StrategyKind; strategy: string; values: Values[] }>();
  for (const { cell, values } of cells) {
    const entry = byStrategy.get(cell.config.strategy) ?? { kind: cell.spec.kind, strategy: cell.config.strategy, values: [] };
    entry.values.push(values);
    byStrategy.set(cell.config.strategy, entry);
  }
  const strategies = [...byStrategy.values()].sort(compareStrategies);
  const finals = strategies.map((s) => perSeed(s.values, (v) => v.final));
  const controls = strategies.map((s) => perSeed(s.values, (v) => v.control));
  const means = finals.map((f) => summarizeValues([...f.values()]));
  const indexOf = (pick: (i: number) => boolean): number => {
    let best = -1;
    strategies.forEach((_, i) => {
      if (pick(i) && Number.isFinite(means[i]!.mean) && (best < 0 || means[i]!.mean > means[best]!.mean)) best = i;
    });
    return best;
  };
  const targetedRandom = strategies.findIndex((s) => s.strategy === TARGETED_RANDOM);
  const bestBaseline = indexOf((i) => strategyGroup(strategies[i]!.kind) === 'baseline');
  const against = (ref: number): (PairedComparison | null)[] =>
    finals.map((f, i) => (ref < 0 || i === ref ? null : bySeed(f, finals[ref]!)));
  const vsControl = family(finals.map((f, i) => bySeed(f, controls[i]!)));
  const vsTargetedRandom = family(against(targetedRandom));
  const vsBest = family(against(bestBaseline));
  return {
    name,
    role,
    cells: cells.length,
    bestBaseline: bestBaseline < 0 ? null : strategies[bestBaseline]!.strategy,
    rows: strategies.map((s, i) => ({
      strategy: s.strategy,
      kind: s.kind,
      group: strategyGroup(s.kind),
      seeds: [...finals[i]!.keys()],
      final: means[i]!,
      control: summarizeValues([...controls[i]!.values()]),
      vsControl: vsControl[i]!,
      vsTargetedRandom: vsTargetedRandom[i]!,
      vsBestBaseline: vsBest[i]!,
    })),
  };
}

function ranking(role: SliceRole | 'all', slices: readonly BenchmarkSlice[], strategies: readonly string[]): BenchmarkRanking {
  const mine = slices.filter((s) => role === 'all' || s.role === role);
  const meanIn = (s: BenchmarkSlice, strategy: string): number => s.rows.find((r) => r.strategy === strategy)?.final.mean ?? NaN;
  const complete = mine.filter((s) => strategies.every((t) => Number.isFinite(meanIn(s, t))));
  const table = complete.map((s) => strategies.map((t) => meanIn(s, t)));
  return {
    role,
    slices: complete.map((s) => s.name),
    incomplete: mine.filter((s) => !complete.includes(s)).map((s) => s.name),
    cd: complete.length < 2 || strategies.length < 2 ? null : criticalDifference(table, strategies),
  };
}

const signed = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;

function verdictOf(slices: readonly BenchmarkSlice[], confirmation: BenchmarkRanking, strategies: readonly string[]): BenchmarkVerdict {
  const confirming = slices.filter((s) => s.role === 'confirmation');
  const informedStrategies = strategies.filter((t) => slices.some((s) => s.rows.some((r) => r.strategy === t && r.group === 'informed')));
  const informed = informedStrategies.map((strategy): InformedVerdict => {
    const wins = confirming
      .filter((s) => {
        const x = s.rows.find((r) => r.strategy === strategy)?.vsBestBaseline;
        return x != null && x.comparison.meanDifference > 0 && x.tTestHolm < VERDICT_ALPHA;
      })
      .map((s) => s.name);
    return { strategy, wins, beats: confirming.length > 0 && 2 * wins.length >= confirming.length };
  });
  const cd = confirmation.cd;
  let best: BenchmarkVerdict['best'] = null;
  if (cd !== null) {
    const [first, second] = [cd.treatments[0]!, cd.treatments[1]!];
    const blocks = confirming.filter((s) => confirmation.slices.includes(s.name));
    const meanIn = (s: BenchmarkSlice, t: string): number => s.rows.find((r) => r.strategy === t)!.final.mean;
    best = {
      strategy: first,
      meanRank: cd.meanRanks[0]!,
      runnerUp: second,
      runnerUpMeanRank: cd.meanRanks[1]!,
      meanDifference: blocks.reduce((sum, s) => sum + meanIn(s, first) - meanIn(s, second), 0) / blocks.length,
    };
  }
  const n = confirming.length;
  const rule = `beats the best baseline (Holm-adjusted paired t p < ${VERDICT_ALPHA}) on at least half of the ${n === 1 ? 'one confirmation slice' : `${n} confirmation slices`}`;
  const counts = informed.map((v) => `${v.strategy} ${v.wins.length}/${n}`).join(', ');
  const winners = informed.filter((v) => v.beats);
  let text: string;
  if (n === 0) text = 'No confirmation slice holds results: no verdict.';
  else if (winners.length > 0)
    text = `${winners.map((v) => v.strategy).join(', ')} ${rule.replace('beats', winners.length === 1 ? 'beats' : 'beat')} (${counts}).`;
  else text = `No MODE-informed strategy ${rule}${informed.length === 0 ? ' (none in the store)' : ` (${counts})`}.`;
  if (winners.length === 0 && best !== null)
    text +=
      ` Best on confirmation: ${best.strategy} (mean rank ${best.meanRank.toFixed(2)}), ${signed(best.meanDifference)} over ` +
      `${best.runnerUp} (mean rank ${best.runnerUpMeanRank.toFixed(2)}) on average across ${confirmation.slices.length} slices.`;
  else if (winners.length === 0 && n > 0) text += ' No ranking on confirmation (it needs 2 slices where every strategy has values).';
  return { confirmationSlices: n, informed, best, text };
}

/**
 * The benchmark's statistics from a store's cells. `slices`: a config's (or the slices themselves);
 * null or a config without slices: one development slice per dataset, scenario and model. Cells of no
 * slice are left out and counted. Other settings (alpha, batch, ...) must not vary: filter first.
 */
export function summarizeBenchmark(
  cells: readonly StoredCell[],
  slices: ExperimentConfig | readonly Slice[] | null,
  options: BenchmarkOptions,
): BenchmarkSummary {
  const list: readonly Slice[] | null =
    slices === null ? null : Array.isArray(slices) ? slices : ((slices as ExperimentConfig).slices ?? null);
  const dims = cells.map(cellDimensions);
  const mixed = MIXED.filter((d) => new Set(dims.map((x) => x[d]).filter((v) => v !== null)).size > 1);
  if (mixed.length > 0)
    throw usageError(
      `the benchmark's rows would mix cells of different ${mixed.join(', ')}; keep one value of each, e.g. ` +
        mixed.map((d) => `--where ${d.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}=${dims.find((x) => x[d] !== null)![d]}`).join(' '),
    );
  const groups = new Map<string, { name: string; role: SliceRole; order: number; cells: { cell: StoredCell; values: Values }[] }>();
  let withoutValue = 0;
  let outside = 0;
  cells.forEach((cell, i) => {
    let name: string;
    let role: SliceRole;
    let order: number;
    if (list === null) {
      const d = dims[i]!;
      name = `${d.dataset} / ${d.scenario} / ${d.model}`;
      role = 'development';
      order = 0;
    } else {
      const slice = sliceOfCell({ slices: [...list], datasets: [], scenarios: [], models: [] }, cell.config);
      if (slice === null) {
        outside += 1;
        return;
      }
      ({ name, role } = slice);
      order = list.indexOf(slice);
    }
    const values = finalValues(cell, options.measure, options.split);
    if (values === null) {
      withoutValue += 1;
      return;
    }
    const group = groups.get(name) ?? { name, role, order, cells: [] };
    group.cells.push({ cell, values });
    groups.set(name, group);
  });
  const ordered = [...groups.values()].sort((a, b) => a.order - b.order || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const summaries = ordered.map((g) => sliceSummary(g.name, g.role, g.cells));
  const strategies = [
    ...new Map(summaries.flatMap((s) => s.rows.map((r) => [r.strategy, { kind: r.kind, strategy: r.strategy }] as const))).values(),
  ]
    .sort(compareStrategies)
    .map((s) => s.strategy);
  const rankings = [...SLICE_ROLES, 'all' as const].map((role) => ranking(role, summaries, strategies));
  return {
    measure: options.measure,
    split: options.split,
    cells: cells.length,
    cellsWithoutValue: withoutValue,
    cellsOutsideSlices: outside,
    slices: summaries,
    rankings,
    verdict: verdictOf(
      summaries,
      rankings.find((r) => r.role === 'confirmation')!,
      strategies,
    ),
  };
}

/** The slices of the newest recorded config that has any (a store's runs, newest first), or null. */
export function slicesOfRuns(configs: readonly unknown[]): Slice[] | null {
  for (const config of configs) {
    const slices = slicesOfRecorded(config);
    if (slices !== null) return slices;
  }
  return null;
}

/**
 * The benchmark the report shows for a store: on test, the buggy labels' recall (the issue's measure),
 * over the slices of its recorded config (or one per dataset, scenario and model); null where the
 * cells fill fewer than 2 slices, or mix settings a benchmark must not (the report then leaves it out).
 */
export function benchmarkOfStore(cells: readonly StoredCell[], configs: readonly unknown[]): BenchmarkSummary | null {
  let summary: BenchmarkSummary;
  try {
    summary = summarizeBenchmark(cells, slicesOfRuns(configs), { measure: 'buggy', split: 'test' });
  } catch (error) {
    if (error instanceof ModeError) return null;
    throw error;
  }
  return summary.slices.length > 1 ? summary : null;
}
