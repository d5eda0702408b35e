/**
 * The data of a run, rebuilt from its config: dataset, seeded splits, bug scenarios on the training
 * split. Train, analyze and repair all call this with a model's recorded config, so they see the
 * very same train / validation / pool / test.
 */
import type { InputShape, LabeledSet } from '../core/data-types.js';
import { Rng } from '../core/rng.js';
import {
  applyScenarios,
  describeScenario,
  loadDataset,
  parseScenario,
  SCENARIO_KINDS,
  splitDataset,
  type DataSplits,
  type Dataset,
  type Scenario,
} from '../data/index.js';
import type { TrainConfig } from './train-config.js';

/** What a run keeps of its dataset besides the splits: the whole source's arrays are let go once split. */
export type DatasetInfo = Pick<Dataset, 'name' | 'spec' | 'classNames' | 'numClasses' | 'inputShape' | 'files'>;

export interface RunData {
  readonly dataset: DatasetInfo;
  /** The training split after the bug scenarios. */
  readonly train: LabeledSet;
  readonly validation: LabeledSet;
  readonly pool: LabeledSet;
  readonly test: LabeledSet;
  readonly scenarios: Scenario[];
  readonly scenarioText: string[];
  /**
   * The source file of each row of validation, pool and test (relative to the dataset folder), for
   * datasets made of files (images:DIR); null for the others. (Train has none: scenarios reorder it.)
   */
  readonly files: { readonly validation: string[]; readonly pool: string[]; readonly test: string[] } | null;
}

export type DataConfig = Pick<TrainConfig, 'dataset' | 'seed' | 'trainSize' | 'validationSize' | 'poolSize' | 'scenarios'> &
  Partial<Pick<TrainConfig, 'normalize'>>;

export interface PrepareDataOptions {
  /** The model's input shape: image folders are resized to it and must have its channels (see loadDataset). */
  inputShape?: InputShape;
}

export function parseScenarios(texts: TrainConfig['scenarios']): Scenario[] {
  const scenarios: Scenario[] = [];
  for (const kind of SCENARIO_KINDS) {
    const text = texts[kind];
    if (text !== undefined) scenarios.push(parseScenario(kind, text));
  }
  return scenarios;
}

/** Labels a scenario targets (starved or noised), for marking in tables. */
export function scenarioLabels(scenarios: readonly Scenario[]): Set<number> {
  const labels = new Set<number>();
  for (const s of scenarios) {
    if (s.kind === 'starve') s.labels.forEach((l) => labels.add(l));
    else if (s.kind === 'noise') labels.add(s.label);
  }
  return labels;
}

/**
 * The run's data from its config: `config.normalize` (default `unit`) is applied to every split;
 * `options.inputShape` resizes image folders to a model's input.
 */
export async function prepareData(config: DataConfig, options: PrepareDataOptions = {}): Promise<RunData> {
  const root = new Rng(config.seed);
  const scenarios = parseScenarios(config.scenarios);
  const dataset = await loadDataset(config.dataset, {
    seed: root.child('dataset').seed,
    ...(config.normalize !== undefined ? { normalize: config.normalize } : {}),
    ...(options.inputShape !== undefined ? { inputShape: options.inputShape } : {}),
  });
  // The dataset is this function's own: its rows are split, and the bugs applied, in place.
  const splits = splitDataset(dataset, {
    seed: root.child('split').seed,
    inPlace: true,
    ...(config.trainSize !== undefined ? { trainSize: config.trainSize } : {}),
    ...(config.validationSize !== undefined ? { validationSize: config.validationSize } : {}),
    ...(config.poolSize !== undefined ? { poolSize: config.poolSize } : {}),
  });
  const train = scenarios.length > 0 ? applyScenarios(splits.train, scenarios, root.child('scenario'), { inPlace: true }) : splits.train;
  const { name, spec, classNames, numClasses, inputShape, files } = dataset;
  return {
    dataset: { name, spec, classNames, numClasses, inputShape, files },
    train,
    validation: splits.validation,
    pool: splits.pool,
    test: splits.test,
    scenarios,
    scenarioText: scenarios.map(describeScenario),
    files: splitFiles(dataset, splits),
  };
}

function splitFiles(dataset: Dataset, splits: DataSplits): RunData['files'] {
  if (dataset.files === null) return null;
  const { train, test } = dataset.files;
  const pick = (names: readonly string[], indices: Int32Array): string[] => Array.from(indices, (i) => names[i] ?? '');
  const { indices } = splits;
  return {
    validation: pick(train, indices.validation),
    pool: pick(train, indices.pool),
    test:
      splits.testSource === 'carved'
        ? pick(train, indices.test ?? new Int32Array(0))
        : indices.test === null
          ? [...(test ?? [])]
          : pick(test ?? [], indices.test),
  };
}
