/**
 * Selection strategies (method.md section 7), one table. Each picks a batch of pool inputs:
 * - random: uniform over the pool (the control);
 * - targeted-random: the targeted share of the batch uniform among inputs of the target label, the
 *   rest uniform among other labels (the ablation: does anything beyond knowing the label help?);
 * - mode: the targeted share scored against a heat map of the target label (--map, --order,
 *   --metric, --score-space, --pick), the rest uniform among other labels;
 * - entropy, margin, deepgini: the most uncertain inputs of the whole pool (active learning);
 * - targeted-uncertainty: the targeted share among inputs of the target label the model is least
 *   sure of (lowest p(label)), the rest uniform among other labels.
 * Selection is deterministic for a seed; picked inputs leave the pool (the caller's `available`).
 */
import { ModeError, oneOf, usageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { METRIC_NAMES, parseMetric, scoreCandidates, type MetricName, type MetricOptions } from './metrics.js';

export const STRATEGY_NAMES = ['mode', 'random', 'targeted-random', 'targeted-uncertainty', 'entropy', 'margin', 'deepgini'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export const SELECTION_MAPS = ['hc', 'hm', 'hw', 'dhc', 'dhm', 'dhw', 'contrast'] as const;
export type SelectionMap = (typeof SELECTION_MAPS)[number];
export const ORDERS = ['most', 'least'] as const;
export type Order = (typeof ORDERS)[number];
export const SCORE_SPACES = ['importance', 'activation', 'input'] as const;
export type ScoreSpace = (typeof SCORE_SPACES)[number];
export const PICK_RULES = ['top', 'sample'] as const;
export type PickRule = (typeof PICK_RULES)[number];

/** A strategy with its settings; only `mode` uses map, order, metric, space and pick. */
export interface StrategySpec {
  readonly name: StrategyName;
  readonly map: SelectionMap;
  readonly order: Order;
  readonly metric: MetricName;
  readonly scoreSpace: ScoreSpace;
  readonly pick: PickRule;
}

export const STRATEGIES = {
  mode: { targeted: true, usesMaps: true, description: 'targeted share scored against a heat map of the target label' },
  random: { targeted: false, usesMaps: false, description: 'uniform over the pool (the control)' },
  'targeted-random': { targeted: true, usesMaps: false, description: 'targeted share uniform among inputs of the target label' },
  'targeted-uncertainty': { targeted: true, usesMaps: false, description: 'targeted share among target-label inputs with the lowest p(label)' },
  entropy: { targeted: false, usesMaps: false, description: 'highest predictive entropy over the pool' },
  margin: { targeted: false, usesMaps: false, description: 'smallest top-1 minus top-2 probability over the pool' },
  deepgini: { targeted: false, usesMaps: false, description: 'highest Gini impurity 1 - sum p^2 over the pool (DeepGini)' },
} as const satisfies Record<StrategyName, { targeted: boolean; usesMaps: boolean; description: string }>;

/**
 * What `mode` selects with by default: the target-label inputs LEAST similar to HC (the correctly
 * handled ones), cosine in importance space. Chosen by the study in the README's method section on
 * validation recall of the starved labels (MNIST MLP, starve 3,8:0.02, B = 200, 5 seeds: hc-least
 * 0.903, contrast 0.901, dhm-least 0.890, hm-most 0.808, dhm-most 0.740); test was not looked at.
 */
export const DEFAULT_MODE_SETTINGS = { map: 'hc', order: 'least', metric: 'cosine', scoreSpace: 'importance', pick: 'top' } as const satisfies Omit<StrategySpec, 'name'>;

export function strategySpec(name: StrategyName, settings: Partial<Omit<StrategySpec, 'name'>> = {}): StrategySpec {
  return { name, ...DEFAULT_MODE_SETTINGS, ...settings };
}

/**
 * Parses a strategy as written on the command line: a name, or for mode
 * `mode[:MAP[:ORDER[:METRIC[:SPACE[:PICK]]]]]`, e.g. `mode:dhm:least:cosine`.
 */
export function parseStrategy(text: string, defaults: Partial<Omit<StrategySpec, 'name'>> = {}): StrategySpec {
  const [head, ...rest] = text.trim().split(':');
  const name = oneOf('strategy', head ?? '', STRATEGY_NAMES);
  if (name !== 'mode') {
    if (rest.length > 0) throw usageError(`strategy '${text}': only mode takes settings (mode:MAP:ORDER:METRIC:SPACE:PICK)`);
    return strategySpec(name, defaults);
  }
  const [map, order, metric, space, pick, extra] = rest;
  if (extra !== undefined) throw usageError(`strategy '${text}': too many settings; write mode:MAP:ORDER:METRIC:SPACE:PICK`);
  return strategySpec('mode', {
    ...defaults,
    ...(map !== undefined && map !== '' ? { map: oneOf('map', map, SELECTION_MAPS) } : {}),
    ...(order !== undefined && order !== '' ? { order: oneOf('order', order, ORDERS) } : {}),
    ...(metric !== undefined && metric !== '' ? { metric: parseMetric(metric) } : {}),
    ...(space !== undefined && space !== '' ? { scoreSpace: oneOf('score space', space, SCORE_SPACES) } : {}),
    ...(pick !== undefined && pick !== '' ? { pick: oneOf('pick rule', pick, PICK_RULES) } : {}),
  });
}

export function describeStrategy(s: StrategySpec): string {
  if (s.name !== 'mode') return s.name;
  return `mode:${s.map}:${s.order}:${s.metric}:${s.scoreSpace}:${s.pick}`;
}

export { METRIC_NAMES };

/** Heat maps in the scoring space, as the strategy needs them (HC, HM, HW, DHC, DHM, DHW of the target). */
export type MapsInSpace = Readonly<Record<'hc' | 'hm' | 'hw' | 'dhc' | 'dhm' | 'dhw', Float32Array>>;

export interface SelectionInput {
  /** Pool labels. */
  readonly labels: Int32Array;
  /** 1 where the pool input is still available. */
  readonly available: Uint8Array;
  /** The current model's class probabilities on the pool, count x numClasses. */
  readonly probabilities: Float32Array;
  readonly numClasses: number;
  /** The label to repair and its bug kind; null when no bug remains (untargeted strategies only). */
  readonly target: { readonly label: number; readonly kind: 'underfitting' | 'overfitting' } | null;
  /** Vectors of pool inputs in the scoring space (count x size), for mode. */
  readonly vectors?: (indices: Int32Array) => Promise<Float32Array>;
  readonly maps?: MapsInSpace;
}

export interface SelectionOptions {
  readonly batch: number;
  readonly alpha: number;
  readonly metricOptions?: MetricOptions;
  readonly rng: Rng;
}

export interface Selection {
  /** Pool indices, targeted picks first. */
  readonly indices: Int32Array;
  /** The strategy's score of each pick (NaN for uniform picks). */
  readonly scores: Float64Array;
  /** 1 for picks of the targeted share. */
  readonly targeted: Uint8Array;
}

interface Pick {
  index: number;
  score: number;
  targeted: boolean;
}

export async function selectBatch(strategy: StrategySpec, input: SelectionInput, options: SelectionOptions): Promise<Selection> {
  const { batch, alpha, rng } = options;
  const entry = STRATEGIES[strategy.name];
  const picks: Pick[] = [];
  const taken = new Uint8Array(input.labels.length);
  const availableWhere = (keep: (i: number) => boolean): number[] => {
    const out: number[] = [];
    for (let i = 0; i < input.labels.length; i++) if (input.available[i] === 1 && taken[i] === 0 && keep(i)) out.push(i);
    return out;
  };
  const take = (index: number, score: number, targeted: boolean): void => {
    taken[index] = 1;
    picks.push({ index, score, targeted });
  };
  const uniform = (candidates: number[], count: number, targeted: boolean): void => {
    const order = rng.sample(candidates.length, Math.min(count, candidates.length));
    for (const k of order) take(candidates[k]!, NaN, targeted);
  };
  const best = (candidates: number[], scores: ArrayLike<number>, count: number, targeted: boolean, pick: PickRule): void => {
    for (const k of rankIndices(scores, Math.min(count, candidates.length), pick, rng)) take(candidates[k]!, scores[k]!, targeted);
  };

  if (!entry.targeted) {
    const all = availableWhere(() => true);
    if (strategy.name === 'random') uniform(all, batch, false);
    else best(all, all.map((i) => uncertainty(strategy.name, input.probabilities, i, input.numClasses)), batch, false, 'top');
  } else {
    if (input.target === null) throw new ModeError('internal', `${strategy.name} needs a target label`);
    const label = input.target.label;
    const targetedCount = Math.floor(alpha * batch);
    const ofLabel = availableWhere((i) => input.labels[i] === label);
    if (strategy.name === 'targeted-random') {
      uniform(ofLabel, targetedCount, true);
    } else if (strategy.name === 'targeted-uncertainty') {
      best(ofLabel, ofLabel.map((i) => -input.probabilities[i * input.numClasses + label]!), targetedCount, true, 'top');
    } else {
      await selectByMaps(strategy, input, ofLabel, targetedCount, options.metricOptions ?? {}, best, availableWhere);
    }
    uniform(availableWhere((i) => input.labels[i] !== label), batch - picks.length, false);
  }
  return {
    indices: Int32Array.from(picks, (p) => p.index),
    scores: Float64Array.from(picks, (p) => p.score),
    targeted: Uint8Array.from(picks, (p) => (p.targeted ? 1 : 0)),
  };
}

type Best = (candidates: number[], scores: ArrayLike<number>, count: number, targeted: boolean, pick: PickRule) => void;

/**
 * mode's targeted share. Underfitting: target-label inputs scored against the chosen map (for `hw`,
 * inputs of other labels as counter-examples). Overfitting: half target-label inputs against the
 * chosen map, half counter-examples (other labels) against DHW, as method.md section 7 says.
 */
async function selectByMaps(strategy: StrategySpec, input: SelectionInput, ofLabel: number[], count: number, metricOptions: MetricOptions, best: Best, availableWhere: (keep: (i: number) => boolean) => number[]): Promise<void> {
  if (input.vectors === undefined || input.maps === undefined) throw new ModeError('internal', 'mode needs candidate vectors and heat maps');
  const label = input.target!.label;
  const score = async (candidates: number[], map: SelectionMap): Promise<Float64Array> => {
    const vectors = await input.vectors!(Int32Array.from(candidates));
    const against = (reference: Float32Array): Float64Array => scoreCandidates(strategy.metric, vectors, candidates.length, reference, metricOptions);
    const raw = map === 'contrast' ? subtractScores(against(input.maps!.hm), against(input.maps!.hc)) : against(input.maps![map]);
    if (strategy.order === 'least') for (let i = 0; i < raw.length; i++) raw[i] = -raw[i]!;
    return raw;
  };
  const others = (): number[] => availableWhere((i) => input.labels[i] !== label);
  if (input.target!.kind === 'overfitting') {
    const half = Math.ceil(count / 2);
    best(ofLabel, await score(ofLabel, strategy.map === 'hw' ? 'dhm' : strategy.map), half, true, strategy.pick);
    const counter = others();
    best(counter, await score(counter, 'dhw'), count - Math.min(half, ofLabel.length), true, strategy.pick);
    return;
  }
  const candidates = strategy.map === 'hw' ? others() : ofLabel;
  best(candidates, await score(candidates, strategy.map), count, true, strategy.pick);
}

function subtractScores(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v - b[i]!);
}

/** Predictive uncertainty of pool input i: higher = less sure. */
function uncertainty(name: StrategyName, p: Float32Array, i: number, k: number): number {
  const row = p.subarray(i * k, (i + 1) * k);
  if (name === 'entropy') {
    let h = 0;
    for (const v of row) if (v > 0) h -= v * Math.log(v);
    return h;
  }
  if (name === 'deepgini') {
    let s = 0;
    for (const v of row) s += v * v;
    return 1 - s;
  }
  let first = -Infinity;
  let second = -Infinity;
  for (const v of row) {
    if (v > first) {
      second = first;
      first = v;
    } else if (v > second) second = v;
  }
  return -(first - second);
}

/**
 * Positions of the `count` picks among scores: `top` takes the highest (ties to the lower position);
 * `sample` draws without replacement with probability rising with the score (weights exp(z) of the
 * standardised scores, Efraimidis-Spirakis keys), so picks are not all near-duplicates.
 */
export function rankIndices(scores: ArrayLike<number>, count: number, pick: PickRule, rng: Rng): number[] {
  const n = scores.length;
  const positions = Array.from({ length: n }, (_, i) => i);
  if (pick === 'top') {
    positions.sort((a, b) => scores[b]! - scores[a]! || a - b);
    return positions.slice(0, count);
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += scores[i]! / n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (scores[i]! - mean) ** 2 / n;
  const sd = Math.sqrt(variance) || 1;
  const keys = positions.map((i) => {
    let u = rng.next();
    while (u === 0) u = rng.next();
    return Math.log(u) / Math.exp((scores[i]! - mean) / sd);
  });
  positions.sort((a, b) => keys[b]! - keys[a]! || a - b);
  return positions.slice(0, count);
}
