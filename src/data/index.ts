/** Data: dataset readers (IDX, image folders, synthetic), the dataset registry, splits and bug scenarios. */
export { writeIdx } from './idx.js';
export {
  DATASET_NAMES,
  FASHION_MNIST_DIR,
  IDX_FILE_NAMES,
  loadDataset,
  parseDatasetSpec,
  type Dataset,
  type DatasetName,
  type LoadDatasetOptions,
} from './datasets.js';
export { makeSynthetic, type SyntheticData, type SyntheticOptions } from './synthetic.js';
export {
  splitDataset,
  subset,
  subsetUnchecked,
  concatSets,
  capPerLabel,
  splitLabeled,
  type DataSplits,
  type LabeledSplits,
  type SplitIndices,
  type SplitOptions,
} from './splits.js';
export {
  SCENARIO_KINDS,
  applyScenarios,
  describeScenario,
  parseScenario,
  type LabelCounts,
  type Scenario,
  type ScenarioKind,
  type ScenarioResult,
  type ScenarioSummary,
} from './scenarios.js';
