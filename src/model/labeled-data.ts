/**
 * The labeled data a user brings with their own model (`mode select`, `mode repair --add`): their
 * dataset checked against the model, its training file split into train and validation (seeded, so
 * a repair sees the split its selection saw), and its test file where it has one (for reporting only).
 * A model trained by `mode train` on the same data keeps the split it was trained with (its manifest
 * says how), so validation holds no input it trained on.
 */
import type { LabeledSet } from '../core/data-types.js';
import { DEFAULT_NORMALIZE, loadDataset, splitLabeled } from '../data/index.js';
import type { Model } from '../engine/index.js';
import { checkModelFitsData } from './model-run.js';
import type { ModelManifest } from './model-folder.js';
import { prepareData, type DatasetInfo } from './prepare-data.js';

/** The share of the labeled data held out as validation by default. */
export const DEFAULT_VALIDATION_SHARE = 0.2;

export interface LabeledData {
  readonly dataset: DatasetInfo;
  readonly train: LabeledSet;
  readonly validation: LabeledSet;
  /** The dataset's own test file; null when it has none (nothing is carved from the labeled data). */
  readonly test: LabeledSet | null;
  /** How train and validation were made: the model's own split (its manifest), or a seeded share of the data. */
  readonly split: 'manifest' | 'share';
  /** The normalisation the data was read with: the one asked for, else the model's (its manifest's), else unit. New inputs for the model need the same. */
  readonly normalize: string;
}

export async function openLabeledData(
  model: Model,
  manifest: ModelManifest | null,
  spec: string,
  options: { seed: number; validationShare?: number; normalize?: string },
): Promise<LabeledData> {
  const normalize = options.normalize ?? manifest?.config.normalize ?? DEFAULT_NORMALIZE;
  if (manifest !== null && manifest.config.dataset === spec) {
    // Read as at training (no resize).
    const data = await prepareData({ ...manifest.config, normalize });
    checkModelFitsData(model, data.dataset.inputShape, data.dataset.numClasses, spec);
    return { dataset: data.dataset, train: data.train, validation: data.validation, test: data.test, split: 'manifest', normalize };
  }
  const dataset = await loadDataset(spec, { seed: options.seed, inputShape: model.inputShape, normalize });
  checkModelFitsData(model, dataset.inputShape, dataset.numClasses, spec);
  const { train, validation } = splitLabeled(dataset.train, {
    seed: options.seed,
    validationShare: options.validationShare ?? DEFAULT_VALIDATION_SHARE,
  });
  const { name, classNames, numClasses, inputShape, files } = dataset;
  return {
    dataset: { name, spec, classNames, numClasses, inputShape, files },
    train,
    validation,
    test: dataset.test,
    split: 'share',
    normalize,
  };
}
