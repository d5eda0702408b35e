/**
 * A labeling queue for an unlabeled pool (`mode select`): MODE's analysis of the model on the labeled
 * data the user has (train and validation, split from it), then the strategy ranks the pool and the
 * first `budget` inputs are the queue. Pool labels are unknown, so strategies that read them (the
 * targeted share: inputs "of the buggy label") read the model's predictions instead, unless the
 * caller asks for the pool's own labels (a study that knows them).
 */
import type { InputShape, LabeledSet } from '../core/data-types.js';
import { inputSize } from '../core/data-types.js';
import { ModeError, usageError } from '../core/errors.js';
import { noProgress, type ProgressCallback } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import { analyzeModel, detectBugs, mapSpaceVectors, type BugKind, type LayerSelectionRule } from '../analysis/index.js';
import type { Engine, Model } from '../engine/index.js';
import { evaluate } from '../model/evaluate.js';
import { argmaxRows } from '../model/metrics.js';
import { gatherRows } from '../select/baselines.js';
import { checkNeeds, prepareSelection } from '../select/prepare.js';
import { formatStrategy, selectBatch, strategyNeeds, STRATEGIES, type StrategySpec } from '../select/strategies.js';
import { VARIANT_OF_SPACE, weakestLabel } from './repair.js';
import { QUEUE_KIND, QUEUE_VERSION, type QueueDoc, type QueueRow } from './select-doc.js';

/** Inputs to rank: an unlabeled pool (files of an image folder, or rows of an array), labels where the pool has them. */
export interface PoolInputs {
  readonly x: Float32Array;
  readonly count: number;
  readonly inputShape: InputShape;
  /** Files relative to the pool folder, one per input; null for an array pool. */
  readonly files: readonly string[] | null;
  /** The pool's own labels, where it has them (read only with `usePoolLabels`). */
  readonly y: Int32Array | null;
}

export interface SelectQueueOptions {
  readonly strategy: StrategySpec;
  readonly budget: number;
  readonly alpha: number;
  readonly seed: number;
  readonly theta: number;
  readonly gamma: number;
  readonly layerSelection: LayerSelectionRule;
  readonly headRowsPerLabel: number;
  readonly minkowskiP: number;
  /** Targeted strategies read the pool's own labels instead of the model's predictions (for studies; the pool must have labels). */
  readonly usePoolLabels: boolean;
}

export interface SelectQueueSources {
  readonly model: string;
  readonly data: string;
  readonly pool: string;
  readonly classNames: readonly string[];
}

export interface QueueSelection {
  readonly doc: QueueDoc;
  /** Seconds per stage: analysis (detect, activations, heads, layer-selection, maps), predict, select. */
  readonly timings: Record<string, number>;
}

/** Ranks the pool for labeling: the analysis on train and validation, then the strategy's first `budget` picks. */
export async function selectQueue(
  engine: Engine,
  model: Model,
  labeled: { readonly train: LabeledSet; readonly validation: LabeledSet; readonly split: 'manifest' | 'share' },
  pool: PoolInputs,
  options: SelectQueueOptions,
  sources: SelectQueueSources,
  onProgress: ProgressCallback = noProgress,
): Promise<QueueSelection> {
  const { strategy, budget } = options;
  if (pool.count === 0) throw new ModeError('data', `the pool ${sources.pool} holds no inputs; point --pool at the inputs to rank`);
  if (budget > pool.count) {
    throw usageError(`--budget ${budget} is larger than the pool (${pool.count} inputs in ${sources.pool}); lower --budget`);
  }
  if (options.usePoolLabels && pool.y === null) {
    throw usageError(`--use-pool-labels: the pool ${sources.pool} has no labels (a flat folder, or x without y); drop the flag`);
  }
  const same = model.inputShape.every((d, i) => d === pool.inputShape[i]);
  if (!same) {
    throw new ModeError(
      'shape',
      `the pool's inputs are [${pool.inputShape.join(', ')}] but the model takes [${model.inputShape.join(', ')}]; ` +
        `load the pool resized to the model's input`,
    );
  }
  const root = new Rng(options.seed);
  const timings: Record<string, number> = {};
  const needs = strategyNeeds(strategy);
  checkNeeds(model, needs, formatStrategy(strategy));
  const variant = VARIANT_OF_SPACE[needs.maps?.space ?? 'importance'];
  const { train, validation } = labeled;
  const names = sources.classNames;

  // Bug detection first: the target of a targeted strategy is the first bug, or the weakest validation label when none is found.
  let t = performance.now();
  const trainEval = await evaluate(model, train);
  const validationEval = await evaluate(model, validation);
  const theta = { kind: 'absolute' as const, value: options.theta };
  const bugs = detectBugs(trainEval.perLabel, validationEval.perLabel, { theta, gamma: options.gamma }).bugs;
  const detectSeconds = (performance.now() - t) / 1000;
  const target: { label: number; kind: BugKind; why: string } | null =
    bugs[0] !== undefined
      ? { label: bugs[0].label, kind: bugs[0].kind, why: 'the first buggy label' }
      : STRATEGIES[strategy.kind].targeted
        ? { label: weakestLabel(validationEval.perLabel), kind: 'underfitting', why: 'no buggy label found: the weakest validation label' }
        : null;

  // MODE's analysis: a feature model per layer, the layer each bug starts at, and the target's heat maps.
  const targets = bugs.length > 0 ? bugs.map((b) => ({ label: b.label, kind: b.kind })) : target === null ? [] : [target];
  const analysis = await analyzeModel(engine, model, train, validation, {
    seed: root.child('heads').seed,
    theta,
    gamma: options.gamma,
    layerSelection: options.layerSelection,
    heatmap: variant,
    targets,
    headRowsPerLabel: options.headRowsPerLabel,
    evaluations: { train: trainEval, validation: validationEval },
    onProgress,
  });
  // The analysis reuses the evaluations above: its detection time is theirs plus its own.
  Object.assign(timings, analysis.timings, { detect: detectSeconds + (analysis.timings['detect'] ?? 0) });

  t = performance.now();
  onProgress({ type: 'stage', stage: 'predict', message: `predicting the pool (${pool.count} inputs)` });
  const probabilities = await model.predict(pool.x, pool.count);
  const k = model.numClasses;
  const predicted = argmaxRows(probabilities, k);
  timings['predict'] = (performance.now() - t) / 1000;

  t = performance.now();
  onProgress({ type: 'stage', stage: 'select', message: `ranking the pool with ${formatStrategy(strategy)}` });
  const size = inputSize(pool.inputShape);
  const labels = options.usePoolLabels ? pool.y! : proxyLabels(predicted, probabilities, k, target?.label ?? null, validation);
  const input = await prepareSelection(
    model,
    { x: pool.x, count: pool.count, labels },
    needs,
    {
      seed: root.child('prepare').seed,
      train,
      target: target === null ? null : { label: target.label, kind: target.kind },
      probabilities,
      validation: { labels: validation.y, predictions: validationEval.predictions },
      maps: async () => {
        const at = analysis.targets.findIndex((tg) => tg.label === target!.label);
        const featureModel = analysis.featureModels[analysis.targets[at]!.probe]!;
        return {
          maps: analysis.maps[at]!.maps,
          vectors: (indices: Int32Array) =>
            mapSpaceVectors(model, featureModel, variant, target!.label, gatherRows(pool.x, size, indices), indices.length),
        };
      },
    },
    formatStrategy(strategy),
  );
  const selection = await selectBatch(strategy, input, {
    batch: budget,
    alpha: options.alpha,
    rng: root.child('select'),
    metricOptions: { p: options.minkowskiP },
  });
  timings['select'] = (performance.now() - t) / 1000;

  const rows: QueueRow[] = Array.from(selection.indices, (index, r) => ({
    rank: r + 1,
    index,
    file: pool.files?.[index] ?? null,
    score: Number.isNaN(selection.scores[r]!) ? null : round(selection.scores[r]!),
    predicted: names[predicted[index]!]!,
    confidence: round(probabilities[index * k + predicted[index]!]!),
    serves: selection.targeted[r] === 1 && target !== null ? names[target.label]! : null,
  }));
  const predictedCounts = new Array<number>(k).fill(0);
  for (const row of selection.indices) predictedCounts[predicted[row]!]!++;
  const layerOf = (label: number): string | null => analysis.targets.find((tg) => tg.label === label)?.layerName ?? null;
  const doc: QueueDoc = {
    kind: QUEUE_KIND,
    version: QUEUE_VERSION,
    model: sources.model,
    data: sources.data,
    pool: sources.pool,
    seed: options.seed,
    strategy: formatStrategy(strategy),
    budget,
    alpha: options.alpha,
    poolLabels: options.usePoolLabels ? 'pool' : 'predicted',
    classNames: [...names],
    analysis: {
      sizes: { train: train.count, validation: validation.count, pool: pool.count },
      split: labeled.split,
      train: trainEval.perLabel.map(nullable),
      validation: validationEval.perLabel.map(nullable),
      bugs: bugs.map((b) => ({ label: names[b.label]!, kind: b.kind, layer: layerOf(b.label) })),
      target: target === null ? null : { label: names[target.label]!, kind: target.kind, why: target.why },
    },
    predictedCounts,
    rows,
  };
  return { doc, timings };
}

/**
 * Labels for an unlabeled pool, as strategies that read pool labels see them: the model's predictions,
 * except that the inputs most likely to be the target label (by p(target)) count as that label: as
 * many as the pool would hold by validation's share of the label, or by an even share 1/k of the
 * classes when that is more (labeled data that starves a label has a starved validation too, and
 * would predict a pool almost without it). A model that underfits a label rarely predicts it, so by
 * predictions alone the targeted share would have almost nothing to choose from.
 */
export function proxyLabels(
  predicted: Int32Array,
  probabilities: Float32Array,
  numClasses: number,
  target: number | null,
  validation: LabeledSet,
): Int32Array {
  const labels = predicted.slice();
  if (target === null) return labels;
  let inValidation = 0;
  for (const y of validation.y) if (y === target) inValidation++;
  const share = Math.max(inValidation / Math.max(1, validation.count), 1 / numClasses);
  const expected = Math.round(predicted.length * share);
  const order = Array.from({ length: predicted.length }, (_, i) => i).sort(
    (a, b) => probabilities[b * numClasses + target]! - probabilities[a * numClasses + target]! || a - b,
  );
  for (const i of order.slice(0, expected)) labels[i] = target;
  return labels;
}

const round = (v: number): number => Math.round(v * 1e6) / 1e6;
const nullable = (v: number): number | null => (Number.isNaN(v) ? null : round(v));
