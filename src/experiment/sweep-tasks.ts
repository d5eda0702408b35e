/**
 * What a sweep asks its worker processes to do, built the same way by a local sweep (sweep.ts) and a
 * queue worker (queue-worker.ts): train an initial model, or run a cell's repair; and the class-subset
 * data a model trains on, written once before any worker needs it.
 */
import { oneOf } from '../core/errors.js';
import { ENGINE_NAMES } from '../engine/index.js';
import type { TrainConfigInput } from '../model/train-config.js';
import { describeClassSubset, materializeClassSubset } from './class-subset.js';
import { repairInputOf, type Cell, type ModelConfig } from './experiment-config.js';
import type { ArmResult, RepairDocInput } from './repair-doc.js';
import type { CellRecord } from './store.js';
import { dataFolder } from './sweep-plan.js';
import type { WorkerTask } from './worker.js';

/**
 * The worker group of a model (worker-pool.ts): its settings but the seed. Cells of models that differ
 * only by seed need alike memory; a worker that had run 80 MLP cells peaked at 989 MiB on its first
 * CNN cell, so another kind of model gets a fresh worker.
 */
export function workerGroup(m: ModelConfig): string {
  const { dataset, classSubset, scenario, model, sizes, epochs } = m;
  return JSON.stringify([dataset, classSubset, scenario, model, sizes, epochs]);
}

/** A model's label in progress lines: dataset, class subset, architecture and seed. */
export function modelLabel(m: ModelConfig): string {
  const subset =
    m.classSubset === null
      ? ''
      : typeof m.classSubset === 'number'
        ? ` classes<${m.classSubset}`
        : ` classes ${describeClassSubset(m.classSubset)}`;
  return `${m.dataset}${subset} ${m.model} seed ${m.seed}`;
}

/**
 * Class-subset data, written once by the parent before any worker needs it, keyed by its folder: the
 * dataset spec each model trains on, or why its data could not be written.
 */
export async function datasetSpecs(models: readonly ModelConfig[], store: string): Promise<(m: ModelConfig) => string | Error> {
  const specs = new Map<string, string | Error>();
  for (const config of models) {
    if (config.classSubset === null) continue;
    const dir = dataFolder(store, config.dataset, config.classSubset);
    if (specs.has(dir)) continue;
    try {
      specs.set(dir, await materializeClassSubset(config.dataset, config.classSubset, dir));
    } catch (error) {
      specs.set(dir, error instanceof Error ? error : new Error(String(error)));
    }
  }
  return (m) => (m.classSubset === null ? m.dataset : specs.get(dataFolder(store, m.dataset, m.classSubset))!);
}

/** The request that trains a model into `dir` on the dataset `specOf` gives it. */
export function trainTask(m: ModelConfig, specOf: (m: ModelConfig) => string | Error, engine: string, dir: string): WorkerTask {
  const trainConfig: TrainConfigInput = {
    dataset: specOf(m) as string,
    model: m.model,
    epochs: m.epochs,
    seed: m.seed,
    scenarios: { ...m.scenario },
    engine: oneOf('engine', engine, ENGINE_NAMES),
    ...(m.sizes.train !== undefined ? { trainSize: m.sizes.train } : {}),
    ...(m.sizes.validation !== undefined ? { validationSize: m.sizes.validation } : {}),
    ...(m.sizes.pool !== undefined ? { poolSize: m.sizes.pool } : {}),
  };
  return { type: 'train', config: trainConfig, dir };
}

/** The request that runs a cell's repair on the model in `modelDir`, with its stored control arm when there is one. */
export function repairTask(cell: Cell, modelDir: string, control: ArmResult | null): WorkerTask {
  return { type: 'repair', modelDir, input: repairInputOf(cell), ...(control === null ? {} : { control }) };
}

/** A finished cell as the store records it, with the control arm it computed, if any. */
export function cellRecord(
  cell: Cell,
  outcome: { readonly json: RepairDocInput; readonly seconds: number; readonly control?: ArmResult },
): CellRecord {
  return {
    key: cell.key,
    modelKey: cell.modelKey,
    label: cell.label,
    config: cell.config,
    result: outcome.json,
    seconds: outcome.seconds,
    ...(outcome.control === undefined ? {} : { control: { key: cell.controlKey, arm: outcome.control } }),
  };
}
