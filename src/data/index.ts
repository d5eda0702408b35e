/** Data: dataset readers (IDX, image folders, NumPy arrays, synthetic), the dataset registry, pools, normalisation, splits and bug scenarios. */
export { writeIdx } from './idx.js';
export {
  DATASET_NAMES,
  FASHION_MNIST_DIR,
  IDX_FILE_NAMES,
  loadDataset,
  mapClassesByName,
  parseDatasetSpec,
  type Dataset,
  type DatasetName,
  type LoadDatasetOptions,
} from './datasets.js';
export { loadPool, type LoadPoolOptions, type Pool } from './pool.js';
export { canonicalNormalize, DEFAULT_NORMALIZE, parseNormalize, restoreUnit, type Normalize } from './normalize.js';
export { makeSynthetic, type SyntheticData, type SyntheticOptions } from './synthetic.js';
export {
  splitDataset,
  subset,
  subsetUnchecked,
  subsetOfParts,
  partsOf,
  sampleOfParts,
  concatSets,
  splitLabeled,
  type DataSplits,
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
