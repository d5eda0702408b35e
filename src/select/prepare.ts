/**
 * What a strategy selects from (a SelectionInput), prepared from its needs (strategyNeeds) for one
 * model and pool: the pool's class probabilities, its activations at a layer, the training set's
 * activations at the same layer, Monte Carlo dropout passes. The repair loop calls it every
 * iteration; a caller selecting from an unlabeled pool calls it the same way, with the model's
 * predictions as the pool's labels.
 */
import type { LabeledSet } from '../core/data-types.js';
import { ModeError, usageError } from '../core/errors.js';
import { deriveSeed, Rng } from '../core/rng.js';
import { mostConfusedWith, probePoints } from '../analysis/index.js';
import type { Model } from '../engine/index.js';
import { gatherRows, type ReferenceSet } from './baselines.js';
import type { FeatureLayer, MapsInSpace, PoolFeatures, SelectionInput, StrategyNeeds } from './strategies.js';

/** Training inputs per label whose activations are the reference of coreset and dsa (a seeded sample; all where fewer). */
const TRAIN_ROWS_PER_LABEL = 500;

/** The pool a strategy selects from. */
export interface SelectionPool {
  /** count x input size values, channels last. */
  readonly x: Float32Array;
  readonly count: number;
  /** Each input's label; for an unlabeled pool, the model's predictions (argmax of its probabilities). */
  readonly labels: Int32Array;
  /** 1 where the input may still be picked; all when absent. */
  readonly available?: Uint8Array;
}

export interface PrepareOptions {
  /** Seeds the dropout passes and the sample of the training set. */
  readonly seed: number;
  /** The labelled training set, whole or in parts (the original set and the picks so far); needed for `trainFeatures`. */
  readonly train?: LabeledSet | readonly LabeledSet[];
  /** The label to repair, for targeted strategies; null or absent for untargeted ones. */
  readonly target?: SelectionInput['target'];
  /** The model's class probabilities on the pool, where the caller has them already. */
  readonly probabilities?: Float32Array;
  /** The target label's maps and the pool's vectors in their space, for `maps` (mode's; the repair loop gets them from the analysis). */
  readonly maps?: () => Promise<{ maps: MapsInSpace; vectors: (indices: Int32Array) => Promise<Float32Array> }>;
  /** Validation's labels and the model's predictions on it, for `confusion` (the label the target is most often mistaken for). */
  readonly validation?: { readonly labels: Int32Array; readonly predictions: Int32Array };
  /** Runs each step ('predict': probabilities and dropout passes; 'activations': features), e.g. to time it. */
  readonly time?: <T>(stage: 'predict' | 'activations', work: () => Promise<T>) => Promise<T>;
}

/**
 * Checks that a model can give what a strategy needs, before any work: a named layer exists, and
 * dropout passes have dropout layers to switch on. Throws one usage line otherwise.
 */
export function checkNeeds(model: Model, needs: StrategyNeeds, strategy: string): void {
  if (needs.features !== undefined) featureLayer(model, needs.features.layer, strategy);
  if (needs.stochastic !== undefined && !model.layers.some((l) => l.type === 'dropout')) {
    throw usageError(`${strategy} needs a model with dropout layers; this model has none: use entropy, or train with a dropout layer`);
  }
}

/** The index of the layer a strategy's features come from (-1: the raw input). */
function featureLayer(model: Model, layer: FeatureLayer, strategy: string): number {
  if (layer === 'penultimate') {
    // The input of the output dense layer: the layer before the last one with weights.
    let output = model.layers.length - 1;
    while (output > 0 && !(model.layers[output]!.type === 'dense' && model.layers[output]!.hasWeights)) output--;
    return output - 1;
  }
  if (layer === 'last-hidden') return probePoints(model.layers, model.inputShape).at(-1)!.layerIndex;
  const found = model.layers.find((l) => l.name === layer.name);
  if (found === undefined) {
    throw usageError(
      `unknown layer '${layer.name}' for ${strategy}: the model's layers are [${model.layers.map((l) => l.name).join(', ')}]`,
    );
  }
  return found.index;
}

/**
 * The SelectionInput of a strategy with these needs, for this model and pool. Probabilities are
 * computed once (unless given); features are read from the model a chunk at a time when the strategy
 * asks; the training set's reference is at most TRAIN_ROWS_PER_LABEL inputs per label, sampled with
 * the seed; dropout passes use seeds derived from it.
 */
export async function prepareSelection(
  model: Model,
  pool: SelectionPool,
  needs: StrategyNeeds,
  options: PrepareOptions,
  strategy = 'this strategy',
): Promise<SelectionInput> {
  checkNeeds(model, needs, strategy);
  const time = options.time ?? (<T>(_stage: string, work: () => Promise<T>): Promise<T> => work());
  const size = model.inputShape[0] * model.inputShape[1] * model.inputShape[2];
  let probabilities = options.probabilities;
  if (needs.probabilities === true && probabilities === undefined)
    probabilities = await time('predict', () => model.predict(pool.x, pool.count));
  let features: PoolFeatures | undefined;
  let trainFeatures: ReferenceSet | undefined;
  if (needs.features !== undefined) {
    const index = featureLayer(model, needs.features.layer, strategy);
    const featureSize = index === -1 ? size : model.layers[index]!.outputShape.reduce((a, b) => a * b, 1);
    features = {
      layer: index === -1 ? 'input' : model.layers[index]!.name,
      size: featureSize,
      rows: (indices) =>
        time('activations', async () => (await model.activations(index, gatherRows(pool.x, size, indices), indices.length)).values),
    };
    if (needs.trainFeatures === true) {
      if (options.train === undefined) throw new ModeError('internal', `${strategy} needs the training set`);
      const parts = Array.isArray(options.train) ? (options.train as readonly LabeledSet[]) : [options.train as LabeledSet];
      const sample = sampleRows(parts, model.numClasses, new Rng(deriveSeed(options.seed, 'train-reference')));
      const x = new Float32Array(sample.length * size);
      const labels = new Int32Array(sample.length);
      sample.forEach(([part, row], r) => {
        x.set(parts[part]!.x.subarray(row * size, (row + 1) * size), r * size);
        labels[r] = parts[part]!.y[row]!;
      });
      const values = await time('activations', async () => (await model.activations(index, x, sample.length)).values);
      trainFeatures = { values, size: featureSize, labels, count: sample.length };
    }
  }
  let stochastic: Float32Array[] | undefined;
  if (needs.stochastic !== undefined) {
    stochastic = [];
    for (let t = 0; t < needs.stochastic.passes; t++) {
      const seed = deriveSeed(options.seed, `dropout-${t}`);
      stochastic.push(await time('predict', () => model.predictWithDropout(pool.x, pool.count, seed)));
    }
  }
  const mapsInput = needs.maps !== undefined && options.maps !== undefined ? await options.maps() : undefined;
  const target = options.target ?? null;
  const confusedWith =
    needs.confusion === true && target !== null && options.validation !== undefined
      ? mostConfusedWith(target.label, options.validation.labels, options.validation.predictions, model.numClasses)
      : undefined;
  return {
    labels: pool.labels,
    available: pool.available ?? new Uint8Array(pool.count).fill(1),
    numClasses: model.numClasses,
    target,
    ...(probabilities === undefined ? {} : { probabilities }),
    ...(features === undefined ? {} : { features }),
    ...(trainFeatures === undefined ? {} : { trainFeatures }),
    ...(stochastic === undefined ? {} : { stochastic }),
    ...(confusedWith === undefined ? {} : { confusedWith }),
    ...(mapsInput === undefined ? {} : mapsInput),
  };
}

/** At most TRAIN_ROWS_PER_LABEL rows per label over the parts, as [part, row] pairs in a seeded order. */
function sampleRows(parts: readonly LabeledSet[], numClasses: number, rng: Rng): [number, number][] {
  const byLabel: [number, number][][] = Array.from({ length: numClasses }, () => []);
  parts.forEach((part, p) => {
    for (let r = 0; r < part.count; r++) byLabel[part.y[r]!]?.push([p, r]);
  });
  return byLabel.flatMap((rows) => Array.from(rng.sample(rows.length, Math.min(TRAIN_ROWS_PER_LABEL, rows.length)), (k) => rows[k]!));
}
