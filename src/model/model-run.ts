/**
 * Opens a model folder together with its data: the exact train / validation / pool / test the model
 * was made with, rebuilt from its manifest (or from defaults and a given dataset for a tfjs model
 * folder made elsewhere). Analyze and repair start here.
 */
import type { InputShape } from '../core/data-types.js';
import { ModeError, shapeError } from '../core/errors.js';
import type { Engine, Model } from '../engine/index.js';
import type { ImportRecord } from './import/imported.js';
import { loadModelFolder, type ModelManifest } from './model-folder.js';
import { prepareData, type RunData } from './prepare-data.js';
import { TrainConfigSchema, type TrainConfig } from './train-config.js';

export interface ModelRun {
  model: Model;
  manifest: ModelManifest | null;
  /** Where an imported model came from (LoadedModelFolder.source); null for models made by `mode train`. */
  source: ImportRecord | null;
  /** The data config used: the manifest's, with the dataset and normalisation replaced when asked. */
  config: TrainConfig;
  data: RunData;
}

export function checkModelFitsData(model: Model, inputShape: InputShape, numClasses: number, dataset: string): void {
  const same = model.inputShape.every((d, i) => d === inputShape[i]);
  if (!same) {
    throw shapeError(
      `dataset ${dataset} has inputs of shape [${inputShape.join(', ')}] but the model expects [${model.inputShape.join(', ')}]; ` +
        `use the dataset the model was trained on`,
    );
  }
  if (numClasses > model.numClasses) {
    throw shapeError(
      `dataset ${dataset} has ${numClasses} classes but the model predicts ${model.numClasses}; use the dataset the model was trained on`,
    );
  }
}

/** The dataset to use with a model folder: the one asked for, else the manifest's. */
export function datasetSpecFor(dir: string, manifest: ModelManifest | null, dataset: string | undefined): string {
  const spec = dataset ?? manifest?.config.dataset;
  if (spec === undefined) throw new ModeError('usage', `${dir} has no manifest.json of ours, so its dataset is unknown; pass --dataset`);
  return spec;
}

/**
 * The run's data rebuilt from a config, checked against the model. `trainedOn`: the dataset is the
 * one the model was trained on, so it is read as at training (a mixed folder of grey and colour
 * images is RGB there); any other dataset's image folders are resized to the model's input and must
 * have its channels.
 */
export async function loadRunData(model: Model, config: TrainConfig, trainedOn: boolean): Promise<RunData> {
  const data = await prepareData(config, trainedOn ? {} : { inputShape: model.inputShape });
  checkModelFitsData(model, data.dataset.inputShape, data.dataset.numClasses, config.dataset);
  return data;
}

export interface OpenModelRunOptions {
  /** The dataset, where not the manifest's. */
  dataset?: string;
  /** The normalisation spec, where not the manifest's (`unit` for a model folder without one). */
  normalize?: string;
}

export async function openModelRun(dir: string, engine: Engine, options: OpenModelRunOptions = {}): Promise<ModelRun> {
  const { model, manifest, source } = await loadModelFolder(dir, engine);
  try {
    const config = TrainConfigSchema.parse({
      ...(manifest?.config ?? {}),
      dataset: datasetSpecFor(dir, manifest, options.dataset),
      ...(options.normalize !== undefined ? { normalize: options.normalize } : {}),
    });
    const data = await loadRunData(model, config, manifest !== null && config.dataset === manifest.config.dataset);
    return { model, manifest, source, config, data };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
