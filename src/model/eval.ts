/** Evaluation of a saved model folder on its own data (rebuilt from its manifest) or another dataset. */
import { noProgress, type ProgressCallback } from '../core/progress.js';
import { loadDataset } from '../data/index.js';
import type { Engine } from '../engine/index.js';
import { evaluate, summarize } from './evaluate.js';
import type { ClassificationMetrics } from './metrics.js';
import { loadModelFolder } from './model-folder.js';
import { checkModelFitsData, datasetSpecFor, loadRunData } from './model-run.js';
import type { LabeledSet } from '../core/data-types.js';

export interface EvalResult {
  dataset: string;
  classNames: readonly string[];
  sets: Partial<Record<'train' | 'validation' | 'test', ClassificationMetrics>>;
}

export async function evaluateModelFolder(
  dir: string,
  engine: Engine,
  options: { dataset?: string; normalize?: string; onProgress?: ProgressCallback } = {},
): Promise<EvalResult> {
  const onProgress = options.onProgress ?? noProgress;
  const { model, manifest } = await loadModelFolder(dir, engine);
  try {
    const datasetSpec = datasetSpecFor(dir, manifest, options.dataset);
    onProgress({ type: 'stage', stage: 'data', message: `loading ${datasetSpec}` });
    const sets: [string, LabeledSet][] = [];
    let classNames: readonly string[];
    if (manifest !== null && datasetSpec === manifest.config.dataset) {
      const config = options.normalize !== undefined ? { ...manifest.config, normalize: options.normalize } : manifest.config;
      const data = await loadRunData(model, config, true);
      sets.push(['train', data.train], ['validation', data.validation], ['test', data.test]);
      classNames = data.dataset.classNames;
    } else {
      const dataset = await loadDataset(datasetSpec, {
        seed: manifest?.config.seed ?? 1,
        inputShape: model.inputShape,
        normalize: options.normalize ?? manifest?.config.normalize ?? 'unit',
      });
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
