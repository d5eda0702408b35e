/** A repair of a saved model as one call: open the model and its data, run the repair, shape the outputs. */
import { runEnvironment, type RunEnvironment } from '../core/environment.js';
import type { ProgressCallback } from '../core/progress.js';
import type { Engine, EngineInfo } from '../engine/index.js';
import { openModelRun } from '../model/model-run.js';
import { formatStrategy } from '../select/strategies.js';
import { RepairConfigSchema, type RepairConfig, type RepairConfigInput } from './repair-config.js';
import { REPAIR_KIND, REPAIR_VERSION, type RepairDocInput } from './repair-doc.js';
import { runRepair, type ArmResult, type RepairResult } from './repair.js';

export interface RepairRun {
  config: RepairConfig;
  result: RepairResult;
  /** repair.json: deterministic for a seed (no timings, no environment). */
  json: RepairDocInput;
  /** manifest.json: timings, engine, environment. */
  manifest: RepairManifest;
}

/** A repair's manifest.json: what made it and where the time went (not deterministic, unlike repair.json). */
export interface RepairManifest {
  readonly kind: 'mode-repair-manifest';
  readonly seed: number;
  readonly engine: EngineInfo;
  readonly environment: RunEnvironment;
  readonly timings: {
    /** The whole repair, opening the model and its data included, seconds. */
    readonly total: number;
    /** Per arm (by name): its total and the seconds of each stage. */
    readonly arms: Readonly<Record<string, Readonly<Record<string, number>>>>;
  };
}

export async function repairModel(
  modelDir: string,
  engine: Engine,
  input: RepairConfigInput,
  options: { dataset?: string; onProgress?: ProgressCallback; control?: ArmResult } = {},
): Promise<RepairRun> {
  const config = RepairConfigSchema.parse(input);
  const started = performance.now();
  const run = await openModelRun(modelDir, engine, options.dataset !== undefined ? { dataset: options.dataset } : {});
  try {
    const { data, manifest } = run;
    const result = await runRepair(
      {
        engine,
        initial: run.model,
        train: data.train,
        validation: data.validation,
        pool: data.pool,
        test: data.test,
        training: {
          epochs: run.config.epochs,
          batchSize: run.config.batchSize,
          learningRate: run.config.learningRate,
          optimizer: run.config.optimizer,
        },
        architecture:
          manifest === null
            ? null
            : { inputShape: data.dataset.inputShape, numClasses: data.dataset.numClasses, layers: manifest.architecture.layers },
      },
      config,
      options.onProgress,
      options.control === undefined ? {} : { control: options.control },
    );
    const json: RepairDocInput = {
      kind: REPAIR_KIND,
      version: REPAIR_VERSION,
      model: modelDir,
      dataset: run.config.dataset,
      scenarios: data.scenarioText,
      classNames: data.dataset.classNames,
      seed: config.seed,
      config: { ...config, strategy: formatStrategy(config.strategy), compare: config.compare.map(formatStrategy) },
      initial: result.initial,
      table: result.rows,
      arms: result.arms.map((a) => ({ name: a.name, control: a.control, finishedEarly: a.finishedEarly, iterations: a.iterations })),
    };
    const manifestOut: RepairManifest = {
      kind: 'mode-repair-manifest',
      seed: config.seed,
      engine: engine.info,
      environment: runEnvironment(),
      timings: {
        total: (performance.now() - started) / 1000,
        arms: Object.fromEntries(result.arms.map((a) => [a.name, { total: a.seconds, ...a.stageSeconds }])),
      },
    };
    return { config, result, json, manifest: manifestOut };
  } finally {
    run.model.dispose();
  }
}
