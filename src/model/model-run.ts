/**
 * Opens a model folder together with its data: the exact train / validation / pool / test the model
 * was made with, rebuilt from its manifest (or from defaults and a given dataset for a tfjs model
 * folder made elsewhere). Analyze and repair start here.
 */
import { ModeError } from '../core/errors.js';
import type { Engine, Model } from '../engine/index.js';
import { checkModelFitsData } from './eval.js';
import { loadModelFolder, type ModelManifest } from './model-folder.js';
import { prepareData, type RunData } from './prepare-data.js';
import { TrainConfigSchema, type TrainConfig } from './train-config.js';

export interface ModelRun {
  model: Model;
  manifest: ModelManifest | null;
  /** The data config used: the manifest's, with the dataset replaced when asked. */
  config: TrainConfig;
  data: RunData;
}

export async function openModelRun(dir: string, engine: Engine, options: { dataset?: string } = {}): Promise<ModelRun> {
  const { model, manifest } = await loadModelFolder(dir, engine);
  try {
    if (manifest === null && options.dataset === undefined) {
      throw new ModeError('usage', `${dir} has no manifest.json of ours, so its dataset is unknown; pass --dataset`);
    }
    const config = TrainConfigSchema.parse({ ...(manifest?.config ?? {}), ...(options.dataset !== undefined ? { dataset: options.dataset } : {}) });
    const data = await prepareData(config);
    checkModelFitsData(model, data.dataset.inputShape, data.dataset.numClasses, config.dataset);
    return { model, manifest, config, data };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
