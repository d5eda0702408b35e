/**
 * The analysis half of MODE as one call, the one pipeline `mode analyze` and the repair loop share:
 * bug detection on train and validation, feature models at the probes, a target layer per label to
 * repair, and heat maps at that layer. Uses train and validation only; test is for reporting elsewhere.
 */
import type { LabeledSet } from '../core/data-types.js';
import { partsOf } from '../data/index.js';
import { ModeError } from '../core/errors.js';
import { StageTimer } from '../core/stage-timer.js';
import { noProgress, type ProgressCallback } from '../core/progress.js';
import type { Activations, Engine, HeadOptions, Model } from '../engine/index.js';
import { evaluate, evaluateSets, summarize, type Evaluation } from '../model/evaluate.js';
import type { ClassificationMetrics } from '../model/metrics.js';
import { detectBugs, type BugKind, type BugReport, type ThetaRule } from './bug-detection.js';
import { DEFAULT_HEAD_ROWS_PER_LABEL } from './constants.js';
import type { Scratch } from '../core/scratch.js';
import { forEachFeatureChunk, trainFeatureModels, probePoints, inputProbe, type FeatureModel, type Probe } from './feature-models.js';
import { LabelMapsBuilder, type HeatmapVariant, type LabelMaps } from './heatmaps.js';
import { meanPredictionPerLabel, selectTargetLayer, type LayerSelectionOptions, type LayerSelectionRule } from './layer-selection.js';

export interface AnalyzeOptions extends LayerSelectionOptions {
  /** Root seed of the feature-model heads (each probe's head derives its own). */
  readonly seed: number;
  readonly theta?: ThetaRule;
  readonly layerSelection?: LayerSelectionRule;
  readonly heatmap?: HeatmapVariant;
  readonly head?: Partial<Omit<HeadOptions, 'seed'>>;
  /** Heads train on at most this many training inputs per label (default DEFAULT_HEAD_ROWS_PER_LABEL); 0: on every input. */
  readonly headRowsPerLabel?: number;
  /** Also probe the raw input (always so for a model without hidden probes). */
  readonly includeInputProbe?: boolean;
  /**
   * The probes to train feature models at, in order (default: every probe point). The repair passes
   * the one probe it needs when the target layer is fixed (chosen once, or no layer selection), so
   * only that head trains; layer selection over one probe picks it.
   */
  readonly probes?: readonly Probe[];
  /** The labels to map, with their bug kinds (default: every buggy label the detection finds, in its order). */
  readonly targets?: readonly { readonly label: number; readonly kind: BugKind }[];
  /** Memory for the features, kept by a caller that analyses again and again (the repair loop: one per arm). */
  readonly scratch?: Scratch;
  /** The model's evaluations on train and validation, where the caller has them already. */
  readonly evaluations?: { readonly train: Evaluation; readonly validation: Evaluation };
  readonly onProgress?: ProgressCallback;
}

export interface ProbeResult {
  readonly probe: Probe;
  readonly train: ClassificationMetrics;
  readonly validation: ClassificationMetrics;
}

export interface Target {
  readonly label: number;
  readonly kind: BugKind;
  /** Position in `probes`. */
  readonly probe: number;
  readonly layerName: string;
  readonly rule: LayerSelectionRule;
  readonly reason: string;
}

export interface AnalysisResult {
  readonly model: { readonly train: ClassificationMetrics; readonly validation: ClassificationMetrics };
  readonly bugReport: BugReport;
  readonly probes: ProbeResult[];
  readonly targets: Target[];
  /** Heat maps per buggy label, at its target probe (input space for input-mean). */
  readonly maps: LabelMaps[];
  /** Seconds per stage: detect, activations, heads, layer-selection, maps. */
  readonly timings: Record<string, number>;
}

export interface AnalysisState extends AnalysisResult {
  /** The feature models behind `probes` (heads included), for selection that scores at a probe. */
  readonly featureModels: FeatureModel[];
  /** The model's predictions on validation. */
  readonly validationPredictions: Int32Array;
}

/**
 * MODE's analysis of a model on train and validation: bug detection, feature models at the probes,
 * a target layer per label to repair, and that label's heat maps there. `mode analyze` runs it on
 * every buggy label; the repair loop runs it each iteration on the label it targets. `train` may come
 * in parts, as the repair holds it (the training set, then the inputs added so far): read as one set.
 */
export async function analyzeModel(
  engine: Engine,
  model: Model,
  train: LabeledSet | readonly LabeledSet[],
  validation: LabeledSet,
  options: AnalyzeOptions,
): Promise<AnalysisState> {
  const onProgress = options.onProgress ?? noProgress;
  const timer = new StageTimer();
  const rule = options.layerSelection ?? 'saturation';
  const variant = options.heatmap ?? 'importance';
  let t = performance.now();

  onProgress({ type: 'stage', stage: 'detect', message: 'bug detection: per-label accuracy on train and validation' });
  const trainEval = options.evaluations?.train ?? (await evaluateSets(model, partsOf(train)));
  const validationEval = options.evaluations?.validation ?? (await evaluate(model, validation));
  const bugReport = detectBugs(trainEval.perLabel, validationEval.perLabel, {
    ...(options.theta !== undefined ? { theta: options.theta } : {}),
    ...(options.gamma !== undefined ? { gamma: options.gamma } : {}),
  });
  timer.add('detect', (performance.now() - t) / 1000);

  const probes = options.probes ?? probePoints(model.layers, model.inputShape, { includeInput: options.includeInputProbe === true });
  const featureModels = await trainFeatureModels(engine, model, probes, train, validation, {
    seed: options.seed,
    onProgress,
    timer,
    rowsPerLabel: options.headRowsPerLabel ?? DEFAULT_HEAD_ROWS_PER_LABEL,
    ...(options.scratch !== undefined ? { scratch: options.scratch } : {}),
    ...(options.head !== undefined ? { head: options.head } : {}),
  });

  t = performance.now();
  const accuracies = featureModels.map((f) => ({
    trainPerLabel: f.train.perLabel,
    validationPerLabel: f.validation.perLabel,
    meanPrediction: meanPredictionPerLabel(f.validationProbabilities, validation.y, model.numClasses),
  }));
  const targets: Target[] = (options.targets ?? bugReport.bugs).map((bug) => {
    const choice = selectTargetLayer(rule, bug.label, bug.kind, accuracies, options);
    return { label: bug.label, kind: bug.kind, probe: choice.probe, layerName: probes[choice.probe]!.name, rule, reason: choice.reason };
  });
  timer.add('layer-selection', (performance.now() - t) / 1000);
  t = performance.now();

  onProgress({ type: 'stage', stage: 'heatmaps', message: `heat maps (${variant}) for ${targets.length} buggy label(s)` });
  const maps: LabelMaps[] = [];
  for (const target of targets) {
    const featureModel = featureModels[target.probe]!;
    const probe = variant === 'input-mean' ? inputProbe(model.inputShape) : featureModel.probe;
    const builder = new LabelMapsBuilder(variant, target.label, {
      size: probe.size,
      shape: probe.shape,
      labels: validation.y,
      predictions: validationEval.predictions,
      numClasses: model.numClasses,
      headWeights: featureModel.head.weights,
    });
    await forEachFeatureChunk(
      model,
      [probe.layerIndex],
      validation,
      ([features], start, count) => builder.add(features!, start, count),
      options.scratch,
    );
    maps.push(builder.build());
  }
  timer.add('maps', (performance.now() - t) / 1000);

  return {
    model: { train: summarize(trainEval), validation: summarize(validationEval) },
    bugReport,
    probes: featureModels.map((f) => ({ probe: f.probe, train: f.train, validation: f.validation })),
    targets,
    maps,
    timings: timer.seconds,
    featureModels,
    validationPredictions: validationEval.predictions,
  };
}

/**
 * Rows of `x` in the space of a label's heat maps of `variant` at its target probe: the probe's
 * features, weighted by the head's column of `label` for importance (each neuron's contribution to
 * the label's logit); the raw input for input-mean. Selection scores pool inputs against the maps here.
 * With a scratch, a probe's rows are written into it, valid until its next use.
 */
export async function mapSpaceVectors(
  model: Model,
  featureModel: FeatureModel,
  variant: HeatmapVariant,
  label: number,
  x: Float32Array,
  count: number,
  scratch?: Scratch,
): Promise<Float32Array> {
  if (variant === 'weights')
    throw new ModeError('internal', 'the weights variant has no input vectors: score in importance, activation or input space');
  const layer = variant === 'input-mean' ? -1 : featureModel.probe.layerIndex;
  const into = layer === -1 ? undefined : scratch?.views([count * featureModel.probe.size]);
  const [out] = (await model.layerOutputs([layer], x, count, undefined, into)) as [Activations];
  if (variant === 'importance') {
    const weights = featureModel.head.weights;
    const numClasses = model.numClasses;
    for (let i = 0; i < count; i++) for (let j = 0; j < out.size; j++) out.values[i * out.size + j]! *= weights[j * numClasses + label]!;
  }
  return out.values;
}
