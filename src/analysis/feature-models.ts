/**
 * Feature models (docs/method.md section 4): for a probe point k, the model's layers up to k, frozen, then
 * flatten, then a new dense softmax head trained on those features. Activations are computed once
 * per probe and split, and only the head trains (never re-running the frozen prefix per epoch).
 */
import { collectGarbage } from '../core/memory.js';
import type { Scratch } from '../core/scratch.js';
import { StageTimer } from '../core/stage-timer.js';
import type { InputShape, LabeledSet } from '../core/data-types.js';
import { noProgress, type ProgressCallback } from '../core/progress.js';
import { deriveSeed, Rng } from '../core/rng.js';
import { concatSets, sampleOfParts } from '../data/index.js';
import type { Engine, HeadOptions, LayerInfo, LayerType, Model, SoftmaxHead } from '../engine/index.js';
import { argmaxRows, classificationMetrics, type ClassificationMetrics } from '../model/metrics.js';
import { DEFAULT_HEAD_BATCH_SIZE, DEFAULT_HEAD_EPOCHS, DEFAULT_HEAD_LEARNING_RATE } from './constants.js';

/**
 * Layers after which a probe sits: those with weights, and pooling. Dropout, flatten, batch norm
 * and activation-only layers add no features.
 */
const PROBE_LAYER_TYPES: ReadonlySet<LayerType | 'other'> = new Set<LayerType | 'other'>([
  'dense',
  'conv2d',
  'maxPool2d',
  'averagePooling2d',
]);

export interface Probe {
  /** Layer index in the model; -1 for the raw input. */
  readonly layerIndex: number;
  readonly name: string;
  readonly type: string;
  /** Output shape without the batch axis: [h, w, c] or [n]. */
  readonly shape: readonly number[];
  readonly size: number;
}

const INPUT_PROBE_NAME = 'input';

export function inputProbe(inputShape: InputShape): Probe {
  return {
    layerIndex: -1,
    name: INPUT_PROBE_NAME,
    type: 'input',
    shape: [...inputShape],
    size: inputShape[0] * inputShape[1] * inputShape[2],
  };
}

/** Values in one row of a layer's outputs. */
const outputSize = (layer: LayerInfo): number => layer.outputShape.reduce((a, b) => a * b, 1);

/**
 * Probe points of a model: after every dense, conv and pooling layer except the output layer. The raw
 * input is a probe too when asked, or when the model has no hidden probe (a linear model).
 */
export function probePoints(layers: readonly LayerInfo[], inputShape: InputShape, options: { includeInput?: boolean } = {}): Probe[] {
  const hidden = layers
    .slice(0, -1)
    .filter((l) => PROBE_LAYER_TYPES.has(l.type))
    .map((l) => ({
      layerIndex: l.index,
      name: l.name,
      type: l.type,
      shape: l.outputShape,
      size: outputSize(l),
    }));
  return options.includeInput === true || hidden.length === 0 ? [inputProbe(inputShape), ...hidden] : hidden;
}

export interface FeatureModel {
  readonly probe: Probe;
  readonly head: SoftmaxHead;
  readonly train: ClassificationMetrics;
  readonly validation: ClassificationMetrics;
  /** The head's class probabilities on validation, count x numClasses. */
  readonly validationProbabilities: Float32Array;
}

export interface FeatureModelOptions {
  readonly head?: Partial<Omit<HeadOptions, 'seed'>>;
  readonly seed: number;
  /** Adds the seconds spent computing activations ('activations') and training and measuring heads ('heads'). */
  readonly timer?: StageTimer;
  /** Train each head on at most this many inputs per label (capPerLabel, seeded); 0 or absent: on every input. */
  readonly rowsPerLabel?: number;
  /** Memory for the features, kept by a caller that trains feature models again and again (the repair loop). */
  readonly scratch?: Scratch;
  readonly onProgress?: ProgressCallback;
}

export async function trainFeatureModel(
  engine: Engine,
  model: Model,
  probe: Probe,
  train: LabeledSet,
  validation: LabeledSet,
  options: FeatureModelOptions,
): Promise<FeatureModel> {
  const headTrain = headTrainingSet(train, options);
  const [trainFeatures] = await model.layerOutputs([probe.layerIndex], headTrain.x, headTrain.count);
  const trained = await trainProbeHead(engine, model, probe, headTrain, trainFeatures!.values, options);
  const [probabilities] = await validationProbabilities(model, [probe], [trained.head], validation, new StageTimer());
  return measured(trained, validation, probabilities!, model.numClasses);
}

/**
 * The inputs heads train on: a class-balanced sample of `train` when options.rowsPerLabel says so.
 * `train` may come in parts (the training set and the inputs added to it): only the sample is copied.
 */
function headTrainingSet(train: LabeledSet | readonly LabeledSet[], options: FeatureModelOptions): LabeledSet {
  const parts = sampleOfParts(train, options.rowsPerLabel ?? 0, new Rng(deriveSeed(options.seed, 'head-rows')));
  return parts.length === 1 ? parts[0]! : concatSets(parts);
}

/** Trains the head of one probe on its (already computed) features; measures it on them. */
async function trainProbeHead(
  engine: Engine,
  model: Model,
  probe: Probe,
  train: LabeledSet,
  trainFeatures: Float32Array,
  options: FeatureModelOptions,
): Promise<Pick<FeatureModel, 'probe' | 'head' | 'train'>> {
  const head = await engine.trainHead({ x: trainFeatures, y: train.y, count: train.count, size: probe.size }, model.numClasses, {
    epochs: options.head?.epochs ?? DEFAULT_HEAD_EPOCHS,
    batchSize: options.head?.batchSize ?? DEFAULT_HEAD_BATCH_SIZE,
    learningRate: options.head?.learningRate ?? DEFAULT_HEAD_LEARNING_RATE,
    seed: deriveSeed(options.seed, `head-${probe.name}`),
  });
  const trainProbabilities = await head.predict(trainFeatures, train.count);
  return { probe, head, train: classificationMetrics(train.y, argmaxRows(trainProbabilities, model.numClasses), model.numClasses) };
}

function measured(
  trained: Pick<FeatureModel, 'probe' | 'head' | 'train'>,
  validation: LabeledSet,
  probabilities: Float32Array,
  numClasses: number,
): FeatureModel {
  return {
    ...trained,
    validation: classificationMetrics(validation.y, argmaxRows(probabilities, numClasses), numClasses),
    validationProbabilities: probabilities,
  };
}

/**
 * Inputs whose features are held at once when a set is walked a chunk at a time: a multiple of the
 * engines' inference batch, so the features come out as from one pass over the whole set, while a
 * wide probe's features over the whole set never sit in memory at once.
 */
const FEATURE_CHUNK = 1024;

/**
 * Runs `work` on the features of `set` at each of `layerIndices` (-1: the inputs themselves), a chunk of
 * rows at a time, in order. With a scratch, a chunk's features live in it: `work` must be done with them
 * when it returns.
 */
export async function forEachFeatureChunk(
  model: Model,
  layerIndices: readonly number[],
  set: LabeledSet,
  work: (features: Float32Array[], start: number, count: number) => Promise<void> | void,
  scratch?: Scratch,
): Promise<void> {
  const size = set.inputShape[0] * set.inputShape[1] * set.inputShape[2];
  for (let start = 0; start < set.count; start += FEATURE_CHUNK) {
    const count = Math.min(FEATURE_CHUNK, set.count - start);
    const x = set.x.subarray(start * size, (start + count) * size);
    const layers = layerIndices.filter((i) => i !== -1);
    const into = scratch?.views(layers.map((i) => count * outputSize(model.layers[i]!)));
    const outputs = layers.length === 0 ? [] : await model.layerOutputs(layers, x, count, undefined, into);
    await work(
      layerIndices.map((i) => (i === -1 ? x : outputs[layers.indexOf(i)]!.values)),
      start,
      count,
    );
  }
}

/** Each head's class probabilities on validation (count x numClasses), from its probe's features, chunk by chunk. */
async function validationProbabilities(
  model: Model,
  probes: readonly Probe[],
  heads: readonly SoftmaxHead[],
  validation: LabeledSet,
  timer: StageTimer,
  scratch?: Scratch,
): Promise<Float32Array[]> {
  const k = model.numClasses;
  const out = probes.map(() => new Float32Array(validation.count * k));
  let seconds = performance.now();
  await forEachFeatureChunk(
    model,
    probes.map((p) => p.layerIndex),
    validation,
    async (features, start, count) => {
      timer.add('activations', (performance.now() - seconds) / 1000);
      await timer.time('heads', async () => {
        for (const [j, head] of heads.entries()) out[j]!.set(await head.predict(features[j]!, count), start * k);
      });
      seconds = performance.now();
    },
    scratch,
  );
  timer.add('activations', (performance.now() - seconds) / 1000);
  return out;
}

/** Training feature values held at once when probes share one forward pass (256 MiB of float32). */
const FEATURE_BATCH_VALUES = 2 ** 26;

/**
 * Groups of consecutive probes whose training features fit in FEATURE_BATCH_VALUES together, so each
 * group's activations come from one pass over the data instead of one pass per probe.
 */
export function probeGroups(probes: readonly Probe[], count: number, budget = FEATURE_BATCH_VALUES): Probe[][] {
  const groups: Probe[][] = [];
  let current: Probe[] = [];
  let values = 0;
  for (const probe of probes) {
    const need = probe.size * count;
    if (current.length > 0 && values + need > budget) {
      groups.push(current);
      current = [];
      values = 0;
    }
    current.push(probe);
    values += need;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

export async function trainFeatureModels(
  engine: Engine,
  model: Model,
  probes: readonly Probe[],
  allTrain: LabeledSet | readonly LabeledSet[],
  validation: LabeledSet,
  options: FeatureModelOptions,
): Promise<FeatureModel[]> {
  const onProgress = options.onProgress ?? noProgress;
  const timer = options.timer ?? new StageTimer();
  const train = headTrainingSet(allTrain, options);
  const result: FeatureModel[] = [];
  for (const group of probeGroups(probes, train.count)) {
    const indices = group.map((p) => p.layerIndex);
    // In the scratch (the raw input's entry, which layerOutputs ignores, takes none): the group's heads are done with them before the next use.
    const into = options.scratch?.views(group.map((p) => (p.layerIndex === -1 ? 0 : p.size * train.count)));
    const trainFeatures = await timer.time('activations', async () =>
      (await model.layerOutputs(indices, train.x, train.count, undefined, into)).map((a): Float32Array | null => a.values),
    );
    const trained: Pick<FeatureModel, 'probe' | 'head' | 'train'>[] = [];
    for (const [k, probe] of group.entries()) {
      const i = result.length;
      onProgress({
        type: 'stage',
        stage: 'feature-models',
        message: `feature model ${i + 1}/${probes.length}: ${probe.name} (${probe.shape.join('x')} = ${probe.size} features)`,
      });
      trained.push(await timer.time('heads', () => trainProbeHead(engine, model, probe, train, trainFeatures[k]!, options)));
      // Let a large probe's features go before the next head trains (in a scratch, they stay for the next use).
      trainFeatures[k] = null;
      if (options.scratch === undefined) collectGarbage();
    }
    const probabilities = await validationProbabilities(
      model,
      group,
      trained.map((t) => t.head),
      validation,
      timer,
      options.scratch,
    );
    trained.forEach((t, k) => result.push(measured(t, validation, probabilities[k]!, model.numClasses)));
  }
  return result;
}
