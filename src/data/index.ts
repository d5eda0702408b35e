/** Data: dataset readers (IDX, image folders, synthetic), the dataset registry, splits and bug scenarios. */
export {
  IDX_UNSIGNED_BYTE,
  PIXEL_SCALE,
  loadIdxPair,
  parseIdx,
  readIdx,
  readIdxImages,
  readIdxLabels,
  writeIdx,
  type IdxArray,
  type IdxImages,
  type LoadIdxPairOptions,
} from './idx.js';
export {
  DATASETS,
  DATASET_NAMES,
  DEFAULT_DATASET,
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_DIR,
  IDX_FILE_NAMES,
  loadDataset,
  parseDatasetSpec,
  type Dataset,
  type DatasetName,
  type LoadDatasetOptions,
} from './datasets.js';
export { loadImageFolder, type ImageFolderData } from './image-folder.js';
export { SYNTHETIC_DEFAULTS, SYNTHETIC_PARAMS, makeSynthetic, parseSyntheticSpec, type SyntheticData, type SyntheticOptions } from './synthetic.js';
export {
  CARVED_TEST_SHARE,
  DEFAULT_SPLIT,
  resolveSplitSizes,
  splitDataset,
  subset,
  subsetUnchecked,
  concatSets,
  type DataSplits,
  type SplitIndices,
  type SplitOptions,
  type SplitSizes,
} from './splits.js';
export {
  SCENARIOS,
  SCENARIO_KINDS,
  applyScenarios,
  checkScenarios,
  countLabels,
  describeScenario,
  keptCount,
  orderScenarios,
  parseScenario,
  type LabelCounts,
  type Scenario,
  type ScenarioKind,
  type ScenarioResult,
  type ScenarioSummary,
} from './scenarios.js';
