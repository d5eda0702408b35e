/** A repair of a saved model as one call: open the model and its data, run the repair, shape the outputs. */
import { runEnvironment, type RunEnvironment } from '../core/environment.js';
import type { ProgressCallback } from '../core/progress.js';
import type { Engine, EngineInfo } from '../engine/index.js';
import path from 'node:path';
import { collectGarbage } from '../core/memory.js';
import { openModelRun, type ModelRun } from '../model/model-run.js';
import { formatStrategy } from '../select/strategies.js';
import { RepairConfigSchema, type RepairConfig, type RepairConfigInput } from './repair-config.js';
import { REPAIR_KIND, REPAIR_VERSION, type RepairDocInput } from './repair-doc.js';
import { runRepair, startEvaluations, type ArmResult, type RepairInputs, type RepairResult, type StartEvaluations } from './repair.js';

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

/**
 * What a process keeps between repairs of the same model folder: the model with its data, and the
 * initial model's evaluations. A sweep's worker repairs each model for many cells in a row, and
 * opening MNIST and evaluating the model cost more than some repairs. One model at a time.
 */
export class RepairCache {
  private entry: { readonly key: string; readonly run: ModelRun; start: StartEvaluations | null } | null = null;

  /** The model folder opened with its data: the kept one when it is the same folder, dataset and normalisation. */
  async open(
    modelDir: string,
    engine: Engine,
    dataset: string | undefined,
    normalize?: string,
  ): Promise<{ run: ModelRun; start: StartEvaluations | null }> {
    const key = `${path.resolve(modelDir)}\n${dataset ?? ''}\n${normalize ?? ''}`;
    if (this.entry?.key !== key) {
      this.dispose();
      collectGarbage(); // the last model's data, before the next one's is read
      const options = { ...(dataset !== undefined ? { dataset } : {}), ...(normalize !== undefined ? { normalize } : {}) };
      this.entry = { key, run: await openModelRun(modelDir, engine, options), start: null };
      collectGarbage(); // the whole dataset, now split
    }
    return this.entry;
  }

  remember(start: StartEvaluations): void {
    if (this.entry !== null) this.entry.start = start;
  }

  dispose(): void {
    this.entry?.run.model.dispose();
    this.entry = null;
  }
}

export interface RepairModelOptions {
  /** The dataset, where it is not the one the model was trained on. */
  readonly dataset?: string;
  /** The normalisation spec, where not the model's (see data/normalize.ts). */
  readonly normalize?: string;
  readonly onProgress?: ProgressCallback;
  /** A control arm stored by an earlier repair with the same control settings (see RepairOptions). */
  readonly control?: ArmResult;
  /** Keeps the model, its data and its evaluations for the next repair of the same folder. */
  readonly cache?: RepairCache;
}

export async function repairModel(
  modelDir: string,
  engine: Engine,
  input: RepairConfigInput,
  options: RepairModelOptions = {},
): Promise<RepairRun> {
  const config = RepairConfigSchema.parse(input);
  const started = performance.now();
  const cache = options.cache ?? new RepairCache();
  try {
    const { run, start: kept } = await cache.open(modelDir, engine, options.dataset, options.normalize);
    const { data, manifest } = run;
    const inputs: RepairInputs = {
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
    };
    const start = kept ?? (await startEvaluations(inputs));
    cache.remember(start);
    const result = await runRepair(inputs, config, options.onProgress, {
      start,
      ...(options.control === undefined ? {} : { control: options.control }),
    });
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
    if (options.cache === undefined) cache.dispose();
  }
}
