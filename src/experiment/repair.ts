/**
 * The repair loop (docs/method.md section 8), run for the chosen strategy, any strategies to compare, and
 * the control (random selection at the same budget, same retraining, its own seed stream), all from
 * the same initial weights. Decisions use train and validation only; test is measured for the report.
 */
import { inputSize, type LabeledSet } from '../core/data-types.js';
import { ModeError } from '../core/errors.js';
import { noProgress, type ProgressCallback } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import { collectGarbage } from '../core/memory.js';
import { Scratch } from '../core/scratch.js';
import { StageTimer } from '../core/stage-timer.js';
import { concatSets, sampleOfParts, subsetOfParts, subsetUnchecked } from '../data/index.js';
import type { ArchitectureSpec, Engine, Model } from '../engine/index.js';
import {
  analyzeModel,
  detectBugs,
  mapSpaceVectors,
  probePoints,
  type BugKind,
  type HeatmapVariant,
  type Probe,
} from '../analysis/index.js';
import { evaluate, evaluateSets, summarize, type Evaluation } from '../model/evaluate.js';
import { argmaxRows, type ClassificationMetrics } from '../model/metrics.js';
import { meanPairwiseSimilarity } from '../select/metrics.js';
import {
  formatStrategy,
  selectBatch,
  strategyNeeds,
  strategySpec,
  type MapsInSpace,
  type ScoreSpace,
  type StrategySpec,
} from '../select/strategies.js';
import { checkNeeds, prepareSelection } from '../select/prepare.js';
import type { RepairConfig } from './repair-config.js';
import type { ArmResult, IterationDoc, RepairRow } from './repair-doc.js';

export type { ArmResult };

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

export interface RepairResult {
  readonly initial: { validation: ClassificationMetrics; test: ClassificationMetrics; bugs: { label: number; kind: BugKind }[] };
  /** The strategies' arms in order, then the control. */
  readonly arms: ArmResult[];
  readonly rows: RepairRow[];
}

/** The heat-map variant behind each scoring space. */
export const VARIANT_OF_SPACE: Record<ScoreSpace, HeatmapVariant> = {
  importance: 'importance',
  activation: 'activation',
  input: 'input-mean',
};

export interface RepairOptions {
  /**
   * The control arm of an earlier repair with the same control settings (controlSettingsOf): used
   * instead of running it again. The control is random selection, so it does not depend on the
   * strategy, the layer selection or alpha: a sweep computes it once per model, seed and budget.
   */
  readonly control?: ArmResult;
  /** The initial model's evaluations (startEvaluations), where a caller repairing the same model again has them. */
  readonly start?: StartEvaluations;
}

/**
 * The initial model's evaluations: the same for every arm of a repair and for every repair of the
 * model, so they are computed once (and a sweep's worker keeps them for the model's next cell).
 */
export interface StartEvaluations {
  readonly train: Evaluation;
  readonly validation: Evaluation;
  readonly test: Evaluation;
  /** Class probabilities on the pool, count x numClasses. */
  readonly pool: Float32Array;
}

export async function startEvaluations(inputs: RepairInputs): Promise<StartEvaluations> {
  const validation = await evaluate(inputs.initial, inputs.validation);
  const test = await evaluate(inputs.initial, inputs.test);
  const train = await evaluate(inputs.initial, inputs.train);
  const pool = await inputs.initial.predict(inputs.pool.x, inputs.pool.count);
  return { train, validation, test, pool };
}

export async function runRepair(
  inputs: RepairInputs,
  config: RepairConfig,
  onProgress: ProgressCallback = noProgress,
  options: RepairOptions = {},
): Promise<RepairResult> {
  const budget = config.iterations * config.batch;
  if (budget > inputs.pool.count) {
    throw new ModeError(
      'usage',
      `budget of ${config.iterations} iterations x batch ${config.batch} = ${budget} inputs is larger than the pool ` +
        `(${inputs.pool.count}); lower --iterations or --batch, or train with a larger --pool-size`,
    );
  }
  const root = new Rng(config.seed);
  const start = options.start ?? (await startEvaluations(inputs));
  const initialTest = start.test;
  const initialBugs = detectBugs(start.train.perLabel, start.validation.perLabel, {
    theta: { kind: 'absolute', value: config.theta },
    gamma: config.gamma,
  }).bugs;
  // A strategy the model cannot serve (bald without dropout, an unknown layer) is refused before any arm runs.
  for (const spec of [config.strategy, ...config.compare])
    checkNeeds(inputs.initial, strategyNeeds(spec), formatStrategy(spec).split(':')[0]!);
  const arms: ArmResult[] = [];
  for (const spec of [config.strategy, ...config.compare]) {
    const name = formatStrategy(spec);
    onProgress({ type: 'stage', stage: 'repair', message: `repair with ${name}` });
    arms.push(await runArm(inputs, config, { spec, control: false, rng: root.child(`arm-${name}`), start }, onProgress));
  }
  let control: ArmResult;
  if (options.control !== undefined) {
    control = options.control;
    if (!control.control || control.iterations.length !== config.iterations) {
      throw new ModeError(
        'internal',
        `a shared control arm must be a control of ${config.iterations} iterations (got '${control.name}' with ` +
          `${control.iterations.length})`,
      );
    }
  } else {
    onProgress({ type: 'stage', stage: 'repair', message: 'control: random selection at the same budget' });
    control = await runArm(inputs, config, { spec: strategySpec('random'), control: true, rng: root.child('control'), start }, onProgress);
  }
  arms.push(control);

  const buggy = initialBugs.map((b) => b.label);
  const target = buggy[0] ?? null;
  const meanOf = (perLabel: readonly number[]): number | null =>
    buggy.length === 0 ? null : buggy.reduce((s, l) => s + perLabel[l]!, 0) / buggy.length;
  // A control read back from a store has null where JSON wrote NaN.
  const testAfter = (arm: ArmResult, iterations: number): { accuracy: number; perLabel: readonly number[] } => {
    if (iterations === 0) return initialTest;
    const test = arm.iterations[Math.min(iterations, arm.iterations.length) - 1]!.test;
    return { accuracy: test.accuracy ?? NaN, perLabel: test.perLabel.map((v) => v ?? NaN) };
  };
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
    initial: {
      validation: summarize(start.validation),
      test: summarize(initialTest),
      bugs: initialBugs.map((b) => ({ label: b.label, kind: b.kind })),
    },
    arms,
    rows,
  };
}

/**
 * Where an arm's time goes (its manifest's timings): bug detection on the training set, the pool's
 * probabilities, the analysis of strategies that need maps (activations, feature-model heads, layer
 * selection, maps, and the pool's vectors in the maps' space), selection itself, retraining, and
 * evaluation on validation and test.
 */
const ARM_STAGES = [
  'detect',
  'predict',
  'activations',
  'heads',
  'layer-selection',
  'maps',
  'vectors',
  'select',
  'retrain',
  'evaluate',
] as const;
type ArmStage = (typeof ARM_STAGES)[number];

/** One arm of a repair: its strategy, whether it is the control, its seed stream, and the model's evaluations at the start. */
interface ArmSetup {
  readonly spec: StrategySpec;
  readonly control: boolean;
  readonly rng: Rng;
  readonly start: StartEvaluations;
}

async function runArm(inputs: RepairInputs, config: RepairConfig, arm: ArmSetup, onProgress: ProgressCallback): Promise<ArmResult> {
  const started = performance.now();
  const timer = new StageTimer();
  for (const stage of ARM_STAGES) timer.add(stage, 0);
  const time = <T>(stage: ArmStage, work: () => Promise<T>): Promise<T> => timer.time(stage, work);
  const { spec, rng } = arm;
  const { validation, pool, test } = inputs;
  const needs = strategyNeeds(spec);
  let model = inputs.initial.clone();
  const available = new Uint8Array(pool.count).fill(1);
  const selected: number[] = [];
  const iterations: IterationDoc[] = [];
  let previous = arm.start.validation;
  let previousTest = arm.start.test;
  let fixedProbe: Probe | null = null;
  // The analyses' features, mode's pool vectors and the retraining set, in the same memory every iteration.
  const scratch = new Scratch();
  let finishedEarly = false;
  const size = pool.inputShape[0] * pool.inputShape[1] * pool.inputShape[2];
  try {
    for (let it = 0; it < config.iterations; it++) {
      collectGarbage(); // the last iteration's activations, before this one's
      // The training set so far: the original one and the picks, kept apart (an analysis copies only the rows its heads train on).
      const trainParts = selected.length === 0 ? [inputs.train] : [inputs.train, subsetUnchecked(pool, selected)];
      // The first iteration starts from the initial model, whose evaluations are shared.
      const trainEval =
        it === 0
          ? arm.start.train
          : await time('detect', () =>
              evaluateSets(model, sampleOfParts(trainParts, config.detectRowsPerLabel, rng.child(`detect-${it}`))),
            );
      const bugs = detectBugs(trainEval.perLabel, previous.perLabel, {
        theta: { kind: 'absolute', value: config.theta },
        gamma: config.gamma,
      }).bugs;
      if (!arm.control && config.earlyStop && bugs.length === 0) {
        finishedEarly = true;
        break;
      }
      // Without early stopping, a repaired model keeps working on its weakest validation label.
      const bug = bugs[0] ?? (config.earlyStop ? null : { label: weakestLabel(previous.perLabel), kind: 'underfitting' as const });
      const poolProbabilities =
        it === 0 ? arm.start.pool : needs.probabilities === true ? await time('predict', () => model.predict(pool.x, pool.count)) : null;
      let layer: string | null = null;
      // mode's maps come from the analysis pipeline, run on the current model and training set.
      const maps = async (target: {
        label: number;
        kind: BugKind;
      }): Promise<{ maps: MapsInSpace; vectors: (indices: Int32Array) => Promise<Float32Array> }> => {
        const analysis = await targetMaps(
          inputs,
          config,
          model,
          { trainParts, trainEval, validationEval: previous },
          target,
          needs.maps!.space,
          rng.child(`heads-${it}`).seed,
          fixedProbe,
          timer,
          scratch,
        );
        if (config.layerOnce) fixedProbe = analysis.probe;
        layer = analysis.probe.name;
        return { maps: analysis.maps, vectors: analysis.vectors };
      };
      const input = await prepareSelection(
        model,
        { x: pool.x, count: pool.count, labels: pool.y, available },
        needs,
        {
          seed: rng.child(`prepare-${it}`).seed,
          train: trainParts,
          target: bug === null ? null : { label: bug.label, kind: bug.kind },
          ...(poolProbabilities === null ? {} : { probabilities: poolProbabilities }),
          ...(bug === null ? {} : { maps: () => maps(bug) }),
          validation: { labels: validation.y, predictions: previous.predictions },
          time,
        },
        formatStrategy(spec),
      );
      const selection = await time('select', () =>
        selectBatch(spec, input, {
          batch: config.batch,
          alpha: config.alpha,
          rng: rng.child(`select-${it}`),
          metricOptions: { p: config.minkowskiP },
        }),
      );
      for (const i of selection.indices) available[i] = 0;
      selected.push(...selection.indices);

      const predicted = await time('predict', () => predictionsOf(model, pool, selection.indices, poolProbabilities));
      const alreadyCorrect = Array.from(selection.indices, (i, k) => (predicted[k] === pool.y[i] ? 1 : 0));
      const targetedPositions = Array.from(selection.targeted, (t, k) => (t === 1 ? k : -1)).filter((k) => k >= 0);
      const diversityOf =
        targetedPositions.length >= 2 ? targetedPositions.map((k) => selection.indices[k]!) : Array.from(selection.indices);
      const similarity = meanPairwiseSimilarity('cosine', subsetUnchecked(pool, diversityOf).x, diversityOf.length, size);

      const snapshot = config.rollback ? model.clone() : null;
      model = await time('retrain', () => retrain(inputs, config, model, selected, selection.indices, rng.child(`retrain-${it}`), scratch));
      let validationEval = await time('evaluate', () => evaluate(model, validation));
      let testEval = await time('evaluate', () => evaluate(model, test));
      const regressions = regressionsOf(previous.perLabel, validationEval.perLabel, config.delta).filter((r) => r.label !== bug?.label);
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
      onProgress({
        type: 'stage',
        stage: 'repair',
        message:
          `  iteration ${it + 1}/${config.iterations}: ` +
          `${bug === null ? 'no target' : `target ${bug.label} (${bug.kind})${layer === null ? '' : ` at ${layer}`}`}, ` +
          `picked ${selection.indices.length} (${(100 * mean(alreadyCorrect)).toFixed(0)}% already correct` +
          `${targetedPositions.length === 0 ? '' : `, targeted ${(100 * mean(targetedPositions.map((k) => alreadyCorrect[k]!))).toFixed(0)}%`}), ` +
          `validation ${(100 * validationEval.accuracy).toFixed(2)}%${rolledBack ? ', rolled back' : ''}`,
      });
      previous = validationEval;
      previousTest = testEval;
    }
  } finally {
    model.dispose();
  }
  return {
    name: arm.control ? 'control' : formatStrategy(spec),
    strategy: spec,
    control: arm.control,
    finishedEarly,
    iterations,
    seconds: (performance.now() - started) / 1000,
    stageSeconds: timer.seconds,
  };
}

/**
 * The target label's heat maps for a strategy that scores against them, from the analysis pipeline
 * (analyzeModel) run on the current model and training set, and pool vectors in the same space. The
 * target layer is selected afresh unless it is fixed (chosen once, or no layer selection: the last
 * hidden probe), in which case only its head trains.
 */
async function targetMaps(
  inputs: RepairInputs,
  config: RepairConfig,
  model: Model,
  now: { trainParts: readonly LabeledSet[]; trainEval: Evaluation; validationEval: Evaluation },
  bug: { label: number; kind: BugKind },
  space: ScoreSpace,
  seed: number,
  fixedProbe: Probe | null,
  timer: StageTimer,
  scratch: Scratch,
): Promise<{ probe: Probe; maps: MapsInSpace; vectors: (indices: Int32Array) => Promise<Float32Array> }> {
  const variant = VARIANT_OF_SPACE[space];
  const fixed = fixedProbe ?? (config.layerSelection === 'none' ? probePoints(model.layers, model.inputShape).at(-1)! : null);
  const analysis = await analyzeModel(inputs.engine, model, now.trainParts, inputs.validation, {
    seed,
    theta: { kind: 'absolute', value: config.theta },
    gamma: config.gamma,
    layerSelection: config.layerSelection,
    heatmap: variant,
    targets: [bug],
    headRowsPerLabel: config.headRowsPerLabel,
    scratch,
    evaluations: { train: now.trainEval, validation: now.validationEval },
    ...(fixed === null ? {} : { probes: [fixed] }),
  });
  timer.addAll(analysis.timings);
  const featureModel = analysis.featureModels[analysis.targets[0]!.probe]!;
  // The pool's vectors are computed inside selection (their time moves from 'select' to 'vectors'),
  // into the scratch: selection scores each request's rows before it asks for more.
  const vectors = async (indices: Int32Array): Promise<Float32Array> => {
    const started = performance.now();
    const rows = subsetUnchecked(inputs.pool, indices);
    const out = await mapSpaceVectors(model, featureModel, variant, bug.label, rows.x, rows.count, scratch);
    const seconds = (performance.now() - started) / 1000;
    timer.add('vectors', seconds);
    timer.add('select', -seconds);
    return out;
  };
  return { probe: featureModel.probe, maps: analysis.maps[0]!.maps, vectors };
}

/** The model's predictions for some pool inputs: from the pool's probabilities where the arm has them, else by predicting those inputs. */
async function predictionsOf(model: Model, pool: LabeledSet, indices: Int32Array, probabilities: Float32Array | null): Promise<Int32Array> {
  const k = model.numClasses;
  if (probabilities !== null) return Int32Array.from(indices, (i) => argmaxRows(probabilities.subarray(i * k, (i + 1) * k), k)[0]!);
  const rows = subsetUnchecked(pool, indices);
  return argmaxRows(await model.predict(rows.x, rows.count), k);
}

/** Retrains after a selection, by the configured regime; returns the model to continue with. */
async function retrain(
  inputs: RepairInputs,
  config: RepairConfig,
  model: Model,
  selected: readonly number[],
  batch: Int32Array,
  rng: Rng,
  scratch: Scratch,
): Promise<Model> {
  const { train, pool, training } = inputs;
  const fit = {
    batchSize: training.batchSize,
    optimizer: { kind: training.optimizer, learningRate: training.learningRate },
    seed: rng.child('fit').seed,
    stage: 'retrain',
  } as const;
  if (config.retrain === 'batch-only') {
    await model.fit(subsetUnchecked(pool, batch), { ...fit, epochs: config.fineTuneEpochs });
    return model;
  }
  if (config.retrain === 'cumulative') {
    await fineTuneCumulative(model, pool, train, training, config.fineTuneEpochs, rng, Int32Array.from(selected), scratch);
    return model;
  }
  if (inputs.architecture === null) {
    throw new ModeError(
      'usage',
      "the scratch regime needs the model's architecture, which only models trained by `mode train` record; use --retrain cumulative",
    );
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

/**
 * The cumulative regime: fine-tunes `model` in place on the new inputs (the rows `picked` of `from`,
 * or all of it) plus as many training inputs replayed (drawn by `rng`), so it learns them without
 * forgetting the rest; the set it trains on is copied into `scratch` where given. Returns how many
 * were replayed.
 */
export async function fineTuneCumulative(
  model: Model,
  from: LabeledSet,
  train: LabeledSet,
  training: TrainingSettings,
  epochs: number,
  rng: Rng,
  picked?: Int32Array,
  scratch?: Scratch,
): Promise<number> {
  const fresh = picked?.length ?? from.count;
  const replay = rng.child('replay').sample(train.count, Math.min(fresh, train.count));
  // The new inputs, then the replayed ones, in one copy (as concatSets([picks, subset of train]) would make it).
  const rows = Int32Array.from({ length: fresh + replay.length }, (_, i) =>
    i < fresh ? (picked?.[i] ?? i) : from.count + replay[i - fresh]!,
  );
  const into = scratch?.views([rows.length * inputSize(train.inputShape)])[0];
  await model.fit(subsetOfParts([from, train], rows, into), {
    epochs,
    batchSize: training.batchSize,
    optimizer: { kind: training.optimizer, learningRate: training.learningRate },
    seed: rng.child('fit').seed,
    stage: 'retrain',
  });
  return replay.length;
}

/** The no-regression guard: labels whose validation accuracy fell by more than `delta`. */
export function regressionsOf(
  before: readonly number[],
  after: readonly number[],
  delta: number,
): { label: number; before: number; after: number }[] {
  return after.map((a, label) => ({ label, before: before[label]!, after: a })).filter((r) => r.before - r.after > delta);
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const round = (v: number): number => Math.round(v * 1e6) / 1e6;

/** The label of lowest accuracy (the first of ties): what a repair works on when no label is buggy. */
export function weakestLabel(perLabel: readonly number[]): number {
  let worst = 0;
  perLabel.forEach((v, l) => {
    if (v < perLabel[worst]!) worst = l;
  });
  return worst;
}
