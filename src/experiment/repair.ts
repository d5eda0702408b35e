/**
 * The repair loop (method.md section 8), run for the chosen strategy, any strategies to compare, and
 * the control (random selection at the same budget, same retraining, its own seed stream), all from
 * the same initial weights. Decisions use train and validation only; test is measured for the report.
 */
import type { LabeledSet } from '../core/data-types.js';
import { ModeError } from '../core/errors.js';
import { noProgress, type ProgressCallback } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import { concatSets, subsetUnchecked } from '../data/index.js';
import type { ArchitectureSpec, Engine, Model } from '../engine/index.js';
import {
  detectBugs, labelMaps, probePoints, selectTargetLayer, trainFeatureModel, trainFeatureModels, meanPredictionPerLabel,
  type BugKind, type FeatureModel, type HeatmapVariant, type Probe,
} from '../analysis/index.js';
import { evaluate, summarize, type Evaluation } from '../model/evaluate.js';
import { argmaxRows, type ClassificationMetrics } from '../model/metrics.js';
import { meanPairwiseSimilarity } from '../select/metrics.js';
import { describeStrategy, selectBatch, STRATEGIES, strategySpec, type ScoreSpace, type StrategySpec } from '../select/strategies.js';
import type { RepairConfig } from './repair-config.js';

export interface TrainingSettings {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly optimizer: 'adam' | 'sgd';
}

export interface RepairInputs {
  readonly engine: Engine;
  readonly initial: Model;
  readonly train: LabeledSet;
  readonly validation: LabeledSet;
  readonly pool: LabeledSet;
  readonly test: LabeledSet;
  readonly training: TrainingSettings;
  /** Needed by the `scratch` regime only. */
  readonly architecture: ArchitectureSpec | null;
}

export interface IterationRecord {
  readonly iteration: number;
  readonly target: { label: number; kind: BugKind; layer: string | null } | null;
  readonly selected: { indices: number[]; labels: number[]; scores: (number | null)[]; targeted: number[]; alreadyCorrect: number[] };
  /** Share of the batch (and of its targeted part) that the model already classified correctly. */
  readonly shareAlreadyCorrect: number;
  readonly shareAlreadyCorrectTargeted: number | null;
  /** Mean pairwise cosine similarity of the picks in input space (targeted picks, or the whole batch when untargeted). */
  readonly meanPairwiseSimilarity: number;
  readonly validation: { accuracy: number; perLabel: number[] };
  /** Test confusion matrix too (confusion[true][predicted]), for the report's before/after matrices. */
  readonly test: { accuracy: number; perLabel: number[]; confusion: number[][] };
  readonly regressions: { label: number; before: number; after: number }[];
  readonly rolledBack: boolean;
}

export interface ArmResult {
  readonly name: string;
  readonly strategy: StrategySpec;
  readonly control: boolean;
  readonly finishedEarly: boolean;
  readonly iterations: IterationRecord[];
  readonly seconds: number;
  readonly stageSeconds: Record<string, number>;
}

export interface RepairRow {
  readonly strategy: string;
  readonly initialAcc: number;
  readonly finalAcc: number;
  readonly controlAcc: number;
  readonly finishedEarly: boolean;
  readonly diffIF: number;
  readonly diffFC: number;
  readonly iterations: number;
  readonly targetLabel: number | null;
  readonly targetBefore: number | null;
  readonly targetAfter: number | null;
  readonly controlTargetAfter: number | null;
  /** Mean test accuracy over the labels buggy at the start. */
  readonly buggyBefore: number | null;
  readonly buggyAfter: number | null;
  readonly perLabelDelta: number[];
}

export interface RepairResult {
  readonly initial: { validation: ClassificationMetrics; test: ClassificationMetrics; bugs: { label: number; kind: BugKind }[] };
  readonly arms: ArmResult[];
  readonly rows: RepairRow[];
}

const VARIANT_OF_SPACE: Record<ScoreSpace, HeatmapVariant> = { importance: 'importance', activation: 'activation', input: 'input-mean' };

export interface RepairOptions {
  /**
   * The control arm of an earlier repair with the same control settings (controlSettingsOf): used
   * instead of running it again. The control is random selection, so it does not depend on the
   * strategy, the layer selection or alpha: a sweep computes it once per model, seed and budget.
   */
  readonly control?: ArmResult;
}

export async function runRepair(inputs: RepairInputs, config: RepairConfig, onProgress: ProgressCallback = noProgress, options: RepairOptions = {}): Promise<RepairResult> {
  const budget = config.iterations * config.batch;
  if (budget > inputs.pool.count) {
    throw new ModeError('usage', `budget of ${config.iterations} iterations x batch ${config.batch} = ${budget} inputs is larger than the pool (${inputs.pool.count}); lower --iterations or --batch, or train with a larger --pool-size`);
  }
  const root = new Rng(config.seed);
  const initialValidation = await evaluate(inputs.initial, inputs.validation);
  const initialTest = await evaluate(inputs.initial, inputs.test);
  const initialTrain = await evaluate(inputs.initial, inputs.train);
  const initialBugs = detectBugs(initialTrain.perLabel, initialValidation.perLabel, { theta: { kind: 'absolute', value: config.theta }, gamma: config.gamma }).bugs;

  const strategies = [config.strategy, ...config.compare].map((s) => strategySpec(s.name, s));
  const arms: ArmResult[] = [];
  for (const spec of strategies) {
    const name = describeStrategy(spec);
    onProgress({ type: 'stage', stage: 'repair', message: `repair with ${name}` });
    arms.push(await runArm(inputs, config, spec, false, root.child(`arm-${name}`), initialValidation, initialTest, onProgress));
  }
  let control: ArmResult;
  if (options.control !== undefined) {
    control = options.control;
    if (!control.control || control.iterations.length !== config.iterations) {
      throw new ModeError('internal', `a shared control arm must be a control of ${config.iterations} iterations (got '${control.name}' with ${control.iterations.length})`);
    }
  } else {
    onProgress({ type: 'stage', stage: 'repair', message: 'control: random selection at the same budget' });
    control = await runArm(inputs, config, strategySpec('random'), true, root.child('control'), initialValidation, initialTest, onProgress);
  }
  arms.push(control);

  const buggy = initialBugs.map((b) => b.label);
  const target = buggy[0] ?? null;
  const meanOf = (perLabel: readonly number[]): number | null => (buggy.length === 0 ? null : buggy.reduce((s, l) => s + perLabel[l]!, 0) / buggy.length);
  const testAfter = (arm: ArmResult, iterations: number): { accuracy: number; perLabel: readonly number[] } =>
    iterations === 0 ? initialTest : arm.iterations[Math.min(iterations, arm.iterations.length) - 1]!.test;
  const rows = arms.map((arm): RepairRow => {
    const final = testAfter(arm, arm.iterations.length);
    const controlFinal = testAfter(control, arm.iterations.length);
    return {
      strategy: arm.name,
      initialAcc: initialTest.accuracy,
      finalAcc: final.accuracy,
      controlAcc: controlFinal.accuracy,
      finishedEarly: arm.finishedEarly,
      diffIF: final.accuracy - initialTest.accuracy,
      diffFC: final.accuracy - controlFinal.accuracy,
      iterations: arm.iterations.length,
      targetLabel: target,
      targetBefore: target === null ? null : initialTest.perLabel[target]!,
      targetAfter: target === null ? null : final.perLabel[target]!,
      controlTargetAfter: target === null ? null : controlFinal.perLabel[target]!,
      buggyBefore: meanOf(initialTest.perLabel),
      buggyAfter: meanOf(final.perLabel),
      perLabelDelta: final.perLabel.map((v, l) => v - initialTest.perLabel[l]!),
    };
  });
  return {
    initial: { validation: summarize(initialValidation), test: summarize(initialTest), bugs: initialBugs.map((b) => ({ label: b.label, kind: b.kind })) },
    arms,
    rows,
  };
}

async function runArm(inputs: RepairInputs, config: RepairConfig, spec: StrategySpec, isControl: boolean, rng: Rng, initialValidation: Evaluation, initialTest: Evaluation, onProgress: ProgressCallback): Promise<ArmResult> {
  const started = performance.now();
  const stageSeconds: Record<string, number> = { detect: 0, analysis: 0, select: 0, retrain: 0, evaluate: 0 };
  const time = async <T>(stage: string, work: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await work();
    } finally {
      stageSeconds[stage] = (stageSeconds[stage] ?? 0) + (performance.now() - t) / 1000;
    }
  };
  const { engine, train, validation, pool, test } = inputs;
  let model = inputs.initial.clone();
  const available = new Uint8Array(pool.count).fill(1);
  const selected: number[] = [];
  const iterations: IterationRecord[] = [];
  let previous = initialValidation;
  let previousTest = initialTest;
  let fixedProbe: Probe | null = null;
  let finishedEarly = false;
  const size = pool.inputShape[0] * pool.inputShape[1] * pool.inputShape[2];
  try {
    for (let it = 0; it < config.iterations; it++) {
      const trainNow = selected.length === 0 ? train : concatSets([train, subsetUnchecked(pool, selected)]);
      const bugs = await time('detect', async () => detectBugs((await evaluate(model, trainNow)).perLabel, previous.perLabel, { theta: { kind: 'absolute', value: config.theta }, gamma: config.gamma }).bugs);
      if (!isControl && config.earlyStop && bugs.length === 0) {
        finishedEarly = true;
        break;
      }
      // Without early stopping, a repaired model keeps working on its weakest validation label.
      const bug = bugs[0] ?? (config.earlyStop ? null : { label: weakestLabel(previous.perLabel), kind: 'underfitting' as const });
      const poolProbabilities = await time('select', () => model.predict(pool.x, pool.count));
      let layer: string | null = null;
      let mapsInput = {};
      if (STRATEGIES[spec.name].usesMaps && bug !== null) {
        const analysis = await time('analysis', () => prepareMaps(engine, model, pool, trainNow, validation, previous, bug, spec, config, rng.child(`heads-${it}`).seed, fixedProbe));
        if (config.layerOnce) fixedProbe = analysis.probe;
        layer = analysis.probe.name;
        mapsInput = { maps: analysis.maps, vectors: analysis.vectors };
      }
      const selection = await time('select', () => selectBatch(spec, {
        labels: pool.y, available, probabilities: poolProbabilities, numClasses: model.numClasses, target: bug === null ? null : { label: bug.label, kind: bug.kind }, ...mapsInput,
      }, { batch: config.batch, alpha: config.alpha, rng: rng.child(`select-${it}`), metricOptions: { p: config.minkowskiP } }));
      for (const i of selection.indices) available[i] = 0;
      selected.push(...selection.indices);

      const poolPredictions = argmaxRows(poolProbabilities, model.numClasses);
      const alreadyCorrect = Array.from(selection.indices, (i) => (poolPredictions[i] === pool.y[i] ? 1 : 0));
      const targetedPositions = Array.from(selection.targeted, (t, k) => (t === 1 ? k : -1)).filter((k) => k >= 0);
      const diversityOf = targetedPositions.length >= 2 ? targetedPositions.map((k) => selection.indices[k]!) : Array.from(selection.indices);
      const similarity = meanPairwiseSimilarity('cosine', subsetUnchecked(pool, diversityOf).x, diversityOf.length, size);

      const snapshot = config.rollback ? model.clone() : null;
      model = await time('retrain', () => retrain(inputs, config, model, selected, selection.indices, rng.child(`retrain-${it}`)));
      let validationEval = await time('evaluate', () => evaluate(model, validation));
      let testEval = await time('evaluate', () => evaluate(model, test));
      const regressions = validationEval.perLabel
        .map((after, label) => ({ label, before: previous.perLabel[label]!, after }))
        .filter((r) => r.label !== bug?.label && r.before - r.after > config.delta);
      let rolledBack = false;
      if (snapshot !== null) {
        if (regressions.length > 0) {
          model.dispose();
          model = snapshot;
          validationEval = previous;
          testEval = previousTest;
          rolledBack = true;
        } else snapshot.dispose();
      }
      iterations.push({
        iteration: it + 1,
        target: bug === null ? null : { label: bug.label, kind: bug.kind, layer },
        selected: {
          indices: Array.from(selection.indices),
          labels: Array.from(selection.indices, (i) => pool.y[i]!),
          scores: Array.from(selection.scores, (s) => (Number.isNaN(s) ? null : round(s))),
          targeted: Array.from(selection.targeted),
          alreadyCorrect,
        },
        shareAlreadyCorrect: mean(alreadyCorrect),
        shareAlreadyCorrectTargeted: targetedPositions.length === 0 ? null : mean(targetedPositions.map((k) => alreadyCorrect[k]!)),
        meanPairwiseSimilarity: round(similarity),
        validation: { accuracy: validationEval.accuracy, perLabel: validationEval.perLabel },
        test: { accuracy: testEval.accuracy, perLabel: testEval.perLabel, confusion: testEval.confusion },
        regressions,
        rolledBack,
      });
      onProgress({ type: 'stage', stage: 'repair', message: `  iteration ${it + 1}/${config.iterations}: ${bug === null ? 'no target' : `target ${bug.label} (${bug.kind})${layer === null ? '' : ` at ${layer}`}`}, ` +
        `picked ${selection.indices.length} (${(100 * mean(alreadyCorrect)).toFixed(0)}% already correct${targetedPositions.length === 0 ? '' : `, targeted ${(100 * mean(targetedPositions.map((k) => alreadyCorrect[k]!))).toFixed(0)}%`}), validation ${(100 * validationEval.accuracy).toFixed(2)}%${rolledBack ? ', rolled back' : ''}` });
      previous = validationEval;
      previousTest = testEval;
    }
  } finally {
    model.dispose();
  }
  return { name: isControl ? 'control' : describeStrategy(spec), strategy: spec, control: isControl, finishedEarly, iterations, seconds: (performance.now() - started) / 1000, stageSeconds };
}

/** Target layer, head and heat maps for mode, and a way to get pool vectors in the scoring space. */
async function prepareMaps(engine: Engine, model: Model, pool: LabeledSet, trainNow: LabeledSet, validation: LabeledSet, validationEval: Evaluation, bug: { label: number; kind: BugKind }, spec: StrategySpec, config: RepairConfig, seed: number, fixedProbe: Probe | null) {
  const probes = probePoints(model.layers, model.inputShape);
  let featureModel: FeatureModel;
  if (fixedProbe !== null || config.layerSelection === 'none') {
    featureModel = await trainFeatureModel(engine, model, fixedProbe ?? probes[probes.length - 1]!, trainNow, validation, { seed });
  } else {
    const all = await trainFeatureModels(engine, model, probes, trainNow, validation, { seed });
    const choice = selectTargetLayer(config.layerSelection, bug.label, bug.kind, all.map((f) => ({
      trainPerLabel: f.train.perLabel, validationPerLabel: f.validation.perLabel, meanPrediction: meanPredictionPerLabel(f.validationProbabilities, validation.y, model.numClasses),
    })), { gamma: config.gamma });
    featureModel = all[choice.probe]!;
  }
  const probe = featureModel.probe;
  const variant = VARIANT_OF_SPACE[spec.scoreSpace];
  const layerIndex = spec.scoreSpace === 'input' ? -1 : probe.layerIndex;
  const features = await model.activations(layerIndex, validation.x, validation.count);
  const numClasses = model.numClasses;
  const weights = featureModel.head.weights;
  const maps = labelMaps(variant, {
    features: features.values, size: features.size, shape: spec.scoreSpace === 'input' ? [...model.inputShape] : probe.shape,
    labels: validation.y, predictions: validationEval.predictions, numClasses, headWeights: weights,
  }, bug.label).maps;
  const vectors = async (indices: Int32Array): Promise<Float32Array> => {
    const rows = subsetUnchecked(pool, indices);
    const out = await model.activations(layerIndex, rows.x, rows.count);
    if (spec.scoreSpace === 'importance') {
      for (let i = 0; i < rows.count; i++) for (let j = 0; j < out.size; j++) out.values[i * out.size + j]! *= weights[j * numClasses + bug.label]!;
    }
    return out.values;
  };
  return { probe, maps, vectors };
}

/** Retrains after a selection, by the configured regime; returns the model to continue with. */
async function retrain(inputs: RepairInputs, config: RepairConfig, model: Model, selected: readonly number[], batch: Int32Array, rng: Rng): Promise<Model> {
  const { train, pool, training } = inputs;
  const fit = { batchSize: training.batchSize, optimizer: { kind: training.optimizer, learningRate: training.learningRate }, seed: rng.child('fit').seed, stage: 'retrain' } as const;
  if (config.retrain === 'batch-only') {
    await model.fit(subsetUnchecked(pool, batch), { ...fit, epochs: config.fineTuneEpochs });
    return model;
  }
  if (config.retrain === 'cumulative') {
    const replay = subsetUnchecked(train, rng.child('replay').sample(train.count, Math.min(selected.length, train.count)));
    await model.fit(concatSets([subsetUnchecked(pool, selected), replay]), { ...fit, epochs: config.fineTuneEpochs });
    return model;
  }
  if (inputs.architecture === null) {
    throw new ModeError('usage', 'the scratch regime needs the model\'s architecture, which only models trained by `mode train` record; use --retrain cumulative');
  }
  const fresh = inputs.engine.buildModel(inputs.architecture, rng.child('init').seed);
  try {
    await fresh.fit(concatSets([train, subsetUnchecked(pool, selected)]), { ...fit, epochs: training.epochs });
  } catch (error) {
    fresh.dispose();
    throw error;
  }
  model.dispose();
  return fresh;
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const round = (v: number): number => Math.round(v * 1e6) / 1e6;

function weakestLabel(perLabel: readonly number[]): number {
  let worst = 0;
  perLabel.forEach((v, l) => {
    if (v < perLabel[worst]!) worst = l;
  });
  return worst;
}
