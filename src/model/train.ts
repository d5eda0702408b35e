/** `mode train` as a library call: data, scenarios, build, fit, evaluate. Prints nothing. */
import { collectGarbage } from '../core/memory.js';
import { runEnvironment } from '../core/environment.js';
import { noProgress, type ProgressCallback } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import type { Engine, Model } from '../engine/index.js';
import { checkArchitectureName, resolveArchitecture } from './architectures.js';
import { evaluate, summarize } from './evaluate.js';
import type { ModelManifest, ModelMetrics } from './model-folder.js';
import { MANIFEST_VERSION } from './model-folder.js';
import { parseScenarios, prepareData, type RunData } from './prepare-data.js';
import { TrainConfigSchema, type TrainConfig, type TrainConfigInput } from './train-config.js';

export interface TrainOptions {
  readonly engine: Engine;
  readonly onProgress?: ProgressCallback;
}

export interface TrainResult {
  model: Model;
  data: RunData;
  manifest: ModelManifest;
  metrics: ModelMetrics;
}

export function resolveTrainConfig(input: TrainConfigInput): TrainConfig {
  return TrainConfigSchema.parse(input);
}

/** Seeds of a training run, all derived from the root seed. */
function trainSeeds(seed: number): Record<string, number> {
  const root = new Rng(seed);
  return {
    root: seed,
    split: root.child('split').seed,
    scenario: root.child('scenario').seed,
    init: root.child('init').seed,
    shuffle: root.child('shuffle').seed,
  };
}

export async function trainModel(config: TrainConfig, options: TrainOptions): Promise<TrainResult> {
  const onProgress = options.onProgress ?? noProgress;
  const timings: Record<string, number> = {};
  const seeds = trainSeeds(config.seed);
  // Check names and option texts before any slow work.
  parseScenarios(config.scenarios);
  checkArchitectureName(config.model);
  let t = performance.now();
  onProgress({ type: 'stage', stage: 'data', message: `loading ${config.dataset} (seed ${config.seed})` });
  const data = await prepareData(config);
  collectGarbage(); // the whole dataset, now split
  timings.data = (performance.now() - t) / 1000;

  const architecture = resolveArchitecture(config.model, data.dataset.inputShape, data.dataset.numClasses);
  const model = options.engine.buildModel(architecture.spec, seeds.init!);
  try {
    onProgress({
      type: 'stage',
      stage: 'train',
      message:
        `training ${architecture.name} (${model.parameterCount()} parameters) on ${data.train.count} inputs ` +
        `for ${config.epochs} epochs`,
    });
    t = performance.now();
    await model.fit(data.train, {
      epochs: config.epochs,
      batchSize: config.batchSize,
      optimizer: { kind: config.optimizer, learningRate: config.learningRate },
      seed: seeds.shuffle!,
      onProgress,
      stage: 'train',
    });
    timings.train = (performance.now() - t) / 1000;

    onProgress({ type: 'stage', stage: 'evaluate', message: 'evaluating on train, validation and test' });
    t = performance.now();
    const metrics: ModelMetrics = {
      train: summarize(await evaluate(model, data.train)),
      validation: summarize(await evaluate(model, data.validation)),
      test: summarize(await evaluate(model, data.test)),
    };
    timings.evaluate = (performance.now() - t) / 1000;

    const trainCountsPerLabel = new Array<number>(data.dataset.numClasses).fill(0);
    for (const y of data.train.y) trainCountsPerLabel[y]! += 1;
    const manifest: ModelManifest = {
      kind: 'mode-model',
      manifestVersion: MANIFEST_VERSION,
      config,
      seeds,
      data: {
        name: data.dataset.name,
        inputShape: [...data.dataset.inputShape],
        numClasses: data.dataset.numClasses,
        classNames: data.dataset.classNames,
        sizes: { train: data.train.count, validation: data.validation.count, pool: data.pool.count, test: data.test.count },
        scenarios: data.scenarioText,
        trainCountsPerLabel,
      },
      architecture: { name: architecture.name, layers: architecture.spec.layers, parameters: model.parameterCount() },
      engine: options.engine.info,
      environment: runEnvironment(),
      timings,
    };
    return { model, data, manifest, metrics };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
