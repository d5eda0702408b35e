/** Evaluation of a saved model folder on its own data (rebuilt from its manifest) or another dataset. */
import { ModeError, shapeError } from '../core/errors.js';
import { noProgress, type ProgressCallback } from '../core/progress.js';
import { loadDataset } from '../data/index.js';
import type { Engine, Model } from '../engine/index.js';
import { evaluate, summarize } from './evaluate.js';
import type { ClassificationMetrics } from './metrics.js';
import { loadModelFolder } from './model-folder.js';
import { prepareData } from './prepare-data.js';
import type { InputShape, LabeledSet } from '../core/data-types.js';

export interface EvalResult {
  dataset: string;
  classNames: readonly string[];
  sets: Partial<Record<'train' | 'validation' | 'test', ClassificationMetrics>>;
}

export function checkModelFitsData(model: Model, inputShape: InputShape, numClasses: number, dataset: string): void {
  const same = model.inputShape.every((d, i) => d === inputShape[i]);
  if (!same) {
    throw shapeError(`dataset ${dataset} has inputs of shape [${inputShape.join(', ')}] but the model expects [${model.inputShape.join(', ')}]; use the dataset the model was trained on`);
  }
  if (numClasses > model.numClasses) {
    throw shapeError(`dataset ${dataset} has ${numClasses} classes but the model predicts ${model.numClasses}; use the dataset the model was trained on`);
  }
}

export async function evaluateModelFolder(dir: string, engine: Engine, options: { dataset?: string; onProgress?: ProgressCallback } = {}): Promise<EvalResult> {
  const onProgress = options.onProgress ?? noProgress;
  const { model, manifest } = await loadModelFolder(dir, engine);
  try {
    const datasetSpec = options.dataset ?? manifest?.config.dataset;
    if (datasetSpec === undefined) {
      throw new ModeError('usage', `${dir} has no manifest.json of ours, so its dataset is unknown; pass --dataset`);
    }
    onProgress({ type: 'stage', stage: 'data', message: `loading ${datasetSpec}` });
    const sets: [string, LabeledSet][] = [];
    let classNames: readonly string[];
    if (manifest !== null && datasetSpec === manifest.config.dataset) {
      const data = await prepareData(manifest.config);
      checkModelFitsData(model, data.dataset.inputShape, data.dataset.numClasses, datasetSpec);
      sets.push(['train', data.train], ['validation', data.validation], ['test', data.test]);
      classNames = data.dataset.classNames;
    } else {
      const dataset = await loadDataset(datasetSpec, { seed: manifest?.config.seed ?? 1 });
      checkModelFitsData(model, dataset.inputShape, dataset.numClasses, datasetSpec);
      sets.push(['test', dataset.test ?? dataset.train]);
      classNames = dataset.classNames;
    }
    onProgress({ type: 'stage', stage: 'evaluate', message: `evaluating on ${sets.map(([n]) => n).join(', ')}` });
    const result: EvalResult = { dataset: datasetSpec, classNames, sets: {} };
    for (const [name, set] of sets) result.sets[name as 'train' | 'validation' | 'test'] = summarize(await evaluate(model, set));
    return result;
  } finally {
    model.dispose();
  }
}
