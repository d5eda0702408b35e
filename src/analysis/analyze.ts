/**
 * The analysis half of MODE as one call: bug detection on train and validation, feature models at
 * every probe, a target layer per buggy label, and heat maps at that layer. Uses train and
 * validation only; test is for reporting elsewhere.
 */
import type { LabeledSet } from '../core/data-types.js';
import { noProgress, type ProgressCallback } from '../core/progress.js';
import type { Engine, HeadOptions, Model } from '../engine/index.js';
import { evaluate, summarize } from '../model/evaluate.js';
import type { ClassificationMetrics } from '../model/metrics.js';
import { detectBugs, type BugKind, type BugReport, type ThetaRule } from './bug-detection.js';
import { trainFeatureModels, probePoints, inputProbe, type FeatureModel, type Probe } from './feature-models.js';
import { labelMaps, type HeatmapVariant, type LabelMaps } from './heatmaps.js';
import { meanPredictionPerLabel, selectTargetLayer, type LayerSelectionOptions, type LayerSelectionRule } from './layer-selection.js';

export interface AnalyzeOptions extends LayerSelectionOptions {
  readonly theta?: ThetaRule;
  readonly layerSelection?: LayerSelectionRule;
  readonly heatmap?: HeatmapVariant;
  readonly head?: Partial<Omit<HeadOptions, 'seed'>>;
  /** Also probe the raw input (always so for a model without hidden probes). */
  readonly includeInputProbe?: boolean;
  readonly seed: number;
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
  readonly timings: Record<string, number>;
}

export interface AnalysisState extends AnalysisResult {
  /** The feature models behind `probes` (heads included), for selection that scores at a probe. */
  readonly featureModels: FeatureModel[];
  /** The model's predictions on validation. */
  readonly validationPredictions: Int32Array;
}

export async function analyzeModel(engine: Engine, model: Model, train: LabeledSet, validation: LabeledSet, options: AnalyzeOptions): Promise<AnalysisState> {
  const onProgress = options.onProgress ?? noProgress;
  const timings: Record<string, number> = {};
  const rule = options.layerSelection ?? 'saturation';
  const variant = options.heatmap ?? 'importance';
  let t = performance.now();

  onProgress({ type: 'stage', stage: 'detect', message: 'bug detection: per-label accuracy on train and validation' });
  const trainEval = await evaluate(model, train);
  const validationEval = await evaluate(model, validation);
  const bugReport = detectBugs(trainEval.perLabel, validationEval.perLabel, {
    ...(options.theta !== undefined ? { theta: options.theta } : {}),
    ...(options.gamma !== undefined ? { gamma: options.gamma } : {}),
  });
  timings.detect = (performance.now() - t) / 1000;

  t = performance.now();
  const probes = probePoints(model.layers, model.inputShape, { includeInput: options.includeInputProbe === true });
  const featureModels = await trainFeatureModels(engine, model, probes, train, validation, {
    seed: options.seed, onProgress, ...(options.head !== undefined ? { head: options.head } : {}),
  });
  timings.featureModels = (performance.now() - t) / 1000;

  t = performance.now();
  const accuracies = featureModels.map((f) => ({
    trainPerLabel: f.train.perLabel,
    validationPerLabel: f.validation.perLabel,
    meanPrediction: meanPredictionPerLabel(f.validationProbabilities, validation.y, model.numClasses),
  }));
  const targets: Target[] = bugReport.bugs.map((bug) => {
    const choice = selectTargetLayer(rule, bug.label, bug.kind, accuracies, options);
    return { label: bug.label, kind: bug.kind, probe: choice.probe, layerName: probes[choice.probe]!.name, rule, reason: choice.reason };
  });

  onProgress({ type: 'stage', stage: 'heatmaps', message: `heat maps (${variant}) for ${targets.length} buggy label(s)` });
  const maps: LabelMaps[] = [];
  const featureCache = new Map<number, Float32Array>();
  for (const target of targets) {
    const featureModel = featureModels[target.probe]!;
    const probe = variant === 'input-mean' ? inputProbe(model.inputShape) : featureModel.probe;
    let features = featureCache.get(probe.layerIndex);
    if (features === undefined) {
      features = (await model.activations(probe.layerIndex, validation.x, validation.count)).values;
      featureCache.set(probe.layerIndex, features);
    }
    maps.push(labelMaps(variant, {
      features, size: probe.size, shape: probe.shape, labels: validation.y, predictions: validationEval.predictions,
      numClasses: model.numClasses, headWeights: featureModel.head.weights,
    }, target.label));
  }
  timings.heatmaps = (performance.now() - t) / 1000;

  return {
    model: { train: summarize(trainEval), validation: summarize(validationEval) },
    bugReport,
    probes: featureModels.map((f) => ({ probe: f.probe, train: f.train, validation: f.validation })),
    targets,
    maps,
    timings,
    featureModels,
    validationPredictions: validationEval.predictions,
  };
}
