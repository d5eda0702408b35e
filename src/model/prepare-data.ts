/**
 * The data of a run, rebuilt from its config: dataset, seeded splits, bug scenarios on the training
 * split. Train, analyze and repair all call this with a model's recorded config, so they see the
 * very same train / validation / pool / test.
 */
import type { LabeledSet } from '../core/data-types.js';
import { Rng } from '../core/rng.js';
import {
  applyScenarios,
  describeScenario,
  loadDataset,
  parseScenario,
  SCENARIO_KINDS,
  splitDataset,
  type Dataset,
  type Scenario,
} from '../data/index.js';
import type { TrainConfig } from './train-config.js';

/** What a run keeps of its dataset besides the splits: the whole source's arrays are let go once split. */
export type DatasetInfo = Pick<Dataset, 'name' | 'spec' | 'classNames' | 'numClasses' | 'inputShape'>;

export interface RunData {
  readonly dataset: DatasetInfo;
  /** The training split after the bug scenarios. */
  readonly train: LabeledSet;
  readonly validation: LabeledSet;
  readonly pool: LabeledSet;
  readonly test: LabeledSet;
  readonly scenarios: Scenario[];
  readonly scenarioText: string[];
}

export type DataConfig = Pick<TrainConfig, 'dataset' | 'seed' | 'trainSize' | 'validationSize' | 'poolSize' | 'scenarios'>;

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

export async function prepareData(config: DataConfig): Promise<RunData> {
  const root = new Rng(config.seed);
  const scenarios = parseScenarios(config.scenarios);
  const dataset = await loadDataset(config.dataset, { seed: root.child('dataset').seed });
  const splits = splitDataset(dataset, {
    seed: root.child('split').seed,
    ...(config.trainSize !== undefined ? { trainSize: config.trainSize } : {}),
    ...(config.validationSize !== undefined ? { validationSize: config.validationSize } : {}),
    ...(config.poolSize !== undefined ? { poolSize: config.poolSize } : {}),
  });
  const train = scenarios.length > 0 ? applyScenarios(splits.train, scenarios, root.child('scenario')) : splits.train;
  const { name, spec, classNames, numClasses, inputShape } = dataset;
  return {
    dataset: { name, spec, classNames, numClasses, inputShape },
    train,
    validation: splits.validation,
    pool: splits.pool,
    test: splits.test,
    scenarios,
    scenarioText: scenarios.map(describeScenario),
  };
}
