/**
 * Bug scenarios (docs/method.md section 2): changes to the training split that make a model buggy on
 * known labels, so a repair has something to repair. Applied to the training split only: validation,
 * pool and test keep the full distribution, so fixing inputs exist.
 *
 * - `small N`     keep N training examples (seeded): overfitting;
 * - `starve L:f`  keep a fraction f of the examples of labels L (round(f * n), at least 1 when f > 0):
 *                 underfitting on L;
 * - `noise L:p`   relabel a fraction p of label L's examples to another label, uniformly at random.
 *
 * They compose, and always apply in the order small, starve, noise, whatever order they were given
 * in (same kind: in the given order). (`capacity`, a model too small for its data, is a model
 * choice, not a data change, so it is not here.)
 */
import { inputSize, type LabeledSet } from '../core/data-types.js';
import { oneOf, usageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { subsetUnchecked } from './splits.js';

export type Scenario =
  | { readonly kind: 'small'; readonly count: number }
  | { readonly kind: 'starve'; readonly labels: readonly number[]; readonly fraction: number }
  | { readonly kind: 'noise'; readonly label: number; readonly fraction: number };

export type ScenarioKind = Scenario['kind'];

/** Counts of a set of labels: total and per label. */
export interface LabelCounts {
  readonly count: number;
  readonly perLabel: readonly number[];
}

export interface ScenarioSummary {
  /** The scenarios applied, in application order, as `describeScenario` writes them. */
  readonly scenarios: readonly string[];
  readonly before: LabelCounts;
  readonly after: LabelCounts;
  /** Examples whose label `noise` changed. */
  readonly relabelled: number;
}

export type ScenarioResult = LabeledSet & {
  readonly summary: ScenarioSummary;
  /** For each example of the result, its index in the input training set. */
  readonly sourceIndices: Int32Array;
  /** Rows of the result whose label was changed by `noise`, ascending. */
  readonly relabelledRows: Int32Array;
};

interface ScenarioEntry<K extends ScenarioKind> {
  /** Option syntax, for messages. */
  readonly syntax: string;
  readonly example: string;
  readonly description: string;
  /** Parses the option text; `option` is how to name it in errors (`--starve '3,8:1.5'`). */
  readonly parse: (text: string, option: string) => Extract<Scenario, { kind: K }>;
  readonly describe: (scenario: Extract<Scenario, { kind: K }>) => string;
}

/** The scenario kinds, in application order. */
const SCENARIOS: { readonly [K in ScenarioKind]: ScenarioEntry<K> } = {
  small: {
    syntax: 'N',
    example: '1000',
    description: 'keep N training examples (seeded): overfitting',
    parse: (text, option) => ({ kind: 'small', count: parseCount(text.trim(), option) }),
    describe: (s) => String(s.count),
  },
  starve: {
    syntax: 'L[,L...]:f',
    example: '3,8:0.02',
    description: 'keep a fraction f of the training examples of labels L: underfitting on L',
    parse: (text, option) => {
      const [labelText, fractionText] = splitColon(text, option, 'L[,L...]:f, e.g. 3,8:0.02');
      const labels = labelText.split(',').map((part) => parseLabel(part.trim(), option));
      const duplicate = labels.find((label, i) => labels.indexOf(label) !== i);
      if (duplicate !== undefined) throw usageError(`${option}: label ${duplicate} is listed twice; list each label once`);
      return { kind: 'starve', labels, fraction: parseFraction(fractionText, option) };
    },
    describe: (s) => `${s.labels.join(',')}:${s.fraction}`,
  },
  noise: {
    syntax: 'L:p',
    example: '5:0.3',
    description: "relabel a fraction p of label L's training examples to other labels, uniformly at random",
    parse: (text, option) => {
      const [labelText, fractionText] = splitColon(text, option, 'L:p, e.g. 5:0.3');
      return { kind: 'noise', label: parseLabel(labelText.trim(), option), fraction: parseFraction(fractionText, option) };
    },
    describe: (s) => `${s.label}:${s.fraction}`,
  },
};

export const SCENARIO_KINDS = Object.keys(SCENARIOS) as ScenarioKind[];

const optionName = (kind: string, text: string): string => `--${kind} '${text}'`;

function splitColon(text: string, option: string, expected: string): [string, string] {
  const colon = text.indexOf(':');
  if (colon < 0) throw usageError(`${option}: missing ':'; expected ${expected}`);
  return [text.slice(0, colon), text.slice(colon + 1).trim()];
}

function parseLabel(text: string, option: string): number {
  if (!/^\d+$/.test(text)) throw usageError(`${option}: label '${text}' is not a non-negative integer`);
  return Number(text);
}

function parseFraction(text: string, option: string): number {
  const value = text === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) throw usageError(`${option}: fraction '${text}' is not a number; expected a number in [0, 1]`);
  if (value < 0 || value > 1) throw usageError(`${option}: fraction must be in [0, 1], got ${text}`);
  return value;
}

function parseCount(text: string, option: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw usageError(`${option}: count must be a positive integer, got '${text}'`);
  return Number(text);
}

/** Parses one scenario option: `parseScenario('starve', '3,8:0.02')`. */
export function parseScenario(kind: string, text: string): Scenario {
  const valid = oneOf('scenario', kind, SCENARIO_KINDS);
  const entry = SCENARIOS[valid] as ScenarioEntry<ScenarioKind>;
  return entry.parse(text, optionName(valid, text));
}

/** The option text of a scenario, without the kind: `3,8:0.02`. */
function scenarioText(scenario: Scenario): string {
  const entry = SCENARIOS[scenario.kind] as ScenarioEntry<ScenarioKind>;
  return entry.describe(scenario);
}

/** `starve 3,8:0.02`, `small 1000`, `noise 5:0.3`. */
export function describeScenario(scenario: Scenario): string {
  return `${scenario.kind} ${scenarioText(scenario)}`;
}

/** Scenarios in application order: small, starve, noise; same kind in the given order. */
function orderScenarios(scenarios: readonly Scenario[]): Scenario[] {
  return SCENARIO_KINDS.flatMap((kind) => scenarios.filter((s) => s.kind === kind));
}

/** Checks scenarios against a training set: labels in range, counts that fit. Throws a usage error. */
function checkScenarios(train: LabeledSet, scenarios: readonly Scenario[]): void {
  let count = train.count;
  for (const scenario of orderScenarios(scenarios)) {
    const option = optionName(scenario.kind, scenarioText(scenario));
    const labels = scenario.kind === 'starve' ? scenario.labels : scenario.kind === 'noise' ? [scenario.label] : [];
    for (const label of labels) {
      if (!Number.isInteger(label) || label < 0 || label >= train.numClasses) {
        throw usageError(`${option}: label ${label} is outside the dataset's labels [0, ${train.numClasses - 1}]`);
      }
    }
    if ((scenario.kind === 'starve' || scenario.kind === 'noise') && !(scenario.fraction >= 0 && scenario.fraction <= 1)) {
      throw usageError(`${option}: fraction must be in [0, 1], got ${scenario.fraction}`);
    }
    if (scenario.kind === 'small') {
      if (!Number.isInteger(scenario.count) || scenario.count < 1) {
        throw usageError(`${option}: count must be a positive integer, got ${scenario.count}`);
      }
      if (scenario.count > count) {
        throw usageError(
          `${option}: count ${scenario.count} is larger than the training split (${count} examples); lower it or raise the train size`,
        );
      }
      count = scenario.count;
    }
  }
}

function countLabels(y: ArrayLike<number>, numClasses: number): LabelCounts {
  const perLabel = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < y.length; i++) {
    const label = y[i] ?? 0;
    perLabel[label] = (perLabel[label] ?? 0) + 1;
  }
  return { count: y.length, perLabel };
}

/**
 * Applies scenarios to a training set (small, then starve, then noise). Each scenario draws from its
 * own child stream of `rng`, named by its position and kind, so results are replayable.
 */
export function applyScenarios(
  train: LabeledSet,
  scenarios: readonly Scenario[],
  rng: Rng,
  options: { readonly inPlace?: boolean } = {},
): ScenarioResult {
  checkScenarios(train, scenarios);
  const before = countLabels(train.y, train.numClasses);
  const ordered = orderScenarios(scenarios);
  // Work on indices into `train` and a label array; copy the pixels once at the end.
  let rows = Int32Array.from({ length: train.count }, (_, i) => i);
  const y = Int32Array.from(train.y);
  const relabelled = new Uint8Array(train.count);
  ordered.forEach((scenario, position) => {
    const stream = rng.child(`scenario-${position}-${scenario.kind}`);
    if (scenario.kind === 'small') {
      rows = stream
        .sample(rows.length, scenario.count)
        .map((i) => rows[i] ?? 0)
        .sort();
    } else if (scenario.kind === 'starve') {
      const starved = new Set(scenario.labels);
      const drop = new Uint8Array(train.count);
      for (const label of scenario.labels) {
        const ofLabel = rows.filter((row) => y[row] === label);
        const keep = keptCount(ofLabel.length, scenario.fraction);
        const order = stream.child(`label-${label}`).permutation(ofLabel.length);
        for (let i = keep; i < order.length; i++) drop[ofLabel[order[i] ?? 0] ?? 0] = 1;
      }
      rows = rows.filter((row) => !(starved.has(y[row] ?? -1) && drop[row] === 1));
    } else {
      // Candidates: examples labelled L now that no earlier noise scenario has relabelled.
      const candidates = rows.filter((row) => y[row] === scenario.label && relabelled[row] === 0);
      const ofLabel = rows.filter((row) => y[row] === scenario.label).length;
      const flips = Math.min(candidates.length, Math.round(scenario.fraction * ofLabel));
      const chosen = stream.sample(candidates.length, flips);
      for (const i of chosen) {
        const row = candidates[i] ?? 0;
        const other = stream.int(train.numClasses - 1);
        y[row] = other >= scenario.label ? other + 1 : other;
        relabelled[row] = 1;
      }
    }
  });
  const set = options.inPlace === true ? keptInPlace(train, rows) : subsetUnchecked(train, rows);
  const newY = set.y as Int32Array;
  const changed: number[] = [];
  rows.forEach((row, i) => {
    newY[i] = y[row] ?? 0;
    if (relabelled[row] === 1) changed.push(i);
  });
  return {
    ...set,
    summary: {
      scenarios: ordered.map(describeScenario),
      before,
      after: countLabels(newY, train.numClasses),
      relabelled: changed.length,
    },
    sourceIndices: rows,
    relabelledRows: Int32Array.from(changed),
  };
}

/**
 * The rows of `set` at `rows` (ascending, as every scenario keeps them, so a row only moves forward),
 * moved to its front in place and returned as a view of its arrays: `subsetUnchecked` without a copy,
 * for a caller that owns `set` (prepareData).
 */
function keptInPlace(set: LabeledSet, rows: Int32Array): LabeledSet {
  const size = inputSize(set.inputShape);
  rows.forEach((row, i) => {
    if (row === i) return;
    set.x.copyWithin(i * size, row * size, (row + 1) * size);
    set.y[i] = set.y[row]!;
  });
  return { ...set, x: set.x.subarray(0, rows.length * size), y: set.y.subarray(0, rows.length), count: rows.length };
}

/** Examples kept of n by a starve fraction: round(f * n), at least 1 when f > 0 and n > 0. */
export function keptCount(n: number, fraction: number): number {
  if (fraction === 0 || n === 0) return 0;
  return Math.min(n, Math.max(1, Math.round(fraction * n)));
}
