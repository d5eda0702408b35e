/**
 * The public API of mode (the package `mode-debugger`): train a classifier with a training bug or
 * load one, analyse it (buggy labels, the layer where each bug starts, heat maps), repair it by
 * selecting pool inputs, and compare strategies over many seeds. bench/ and examples/ use only this;
 * docs/api.md shows it at work, and `npm run docs` builds its reference.
 *
 * The command line (src/cli/) and the report (src/report/) sit on top of the same modules; see
 * docs/architecture.md for the layers.
 * @packageDocumentation
 */

// Errors, seeds, progress, environment, output folders.
export * from './core/errors.js';
export { Rng, deriveSeed } from './core/rng.js';
export type { ProgressEvent, ProgressCallback } from './core/progress.js';
export type { InputShape, LabeledSet } from './core/data-types.js';
export { runEnvironment, type RunEnvironment } from './core/environment.js';
export { writeJson, writeOutputFolder } from './core/output-folder.js';
export { computeProcessEnv } from './core/process-env.js';

// Engines: where compute runs.
export { createEngine, ENGINE_NAMES, torchUnavailable, type EngineName, type EngineOptions } from './engine/index.js';
export type * from './engine/types.js';

// Data: datasets, pools, normalisation, splits, bug scenarios.
export {
  DATASET_NAMES,
  loadDataset,
  loadPool,
  parseNormalize,
  parseDatasetSpec,
  makeSynthetic,
  splitDataset,
  subset,
  concatSets,
  SCENARIO_KINDS,
  parseScenario,
  describeScenario,
  applyScenarios,
  type Dataset,
  type DatasetName,
  type LoadDatasetOptions,
  type LoadPoolOptions,
  type Normalize,
  type Pool,
  type DataSplits,
  type SplitIndices,
  type SplitOptions,
  type Scenario,
  type ScenarioKind,
  type ScenarioResult,
  type ScenarioSummary,
  type LabelCounts,
  type SyntheticData,
  type SyntheticOptions,
} from './data/index.js';

// Models: architectures, training, evaluation, model folders.
export { ARCHITECTURE_NAMES, resolveArchitecture, parseArchitectureJson } from './model/architectures.js';
export { argmaxRows, classificationMetrics, type ClassificationMetrics } from './model/metrics.js';
export { evaluate, type Evaluation } from './model/evaluate.js';
export { evaluateModelFolder, type EvalResult } from './model/eval.js';
export { loadModelFolder, saveModelFolder, type LoadedModelFolder, type ModelManifest, type ModelMetrics } from './model/model-folder.js';
export { openModelRun, type ModelRun, type OpenModelRunOptions } from './model/model-run.js';
export { prepareData, type DataConfig, type DatasetInfo, type PrepareDataOptions, type RunData } from './model/prepare-data.js';
export type { ImportRecord } from './model/import/imported.js';
export { importModelFile, importModelTo } from './model/import/model-source.js';
export { exportOnnx, type OnnxExport } from './model/import/onnx-export.js';
export { TrainConfigSchema, type TrainConfig, type TrainConfigInput } from './model/train-config.js';
export { trainModel, resolveTrainConfig, type TrainOptions, type TrainResult } from './model/train.js';

// Analysis: bug detection, feature models, target layers, heat maps.
export {
  analyzeModel,
  detectBugs,
  probePoints,
  selectTargetLayer,
  labelMaps,
  ANALYSIS_FILE,
  analysisDoc,
  parseAnalysisDoc,
  AnalysisDocSchema,
  DEFAULT_THETA,
  DEFAULT_GAMMA,
  DEFAULT_EPSILON,
  HEATMAP_VARIANTS,
  LAYER_SELECTION_RULES,
  MAP_NAMES,
  type AnalyzeOptions,
  type AnalysisResult,
  type AnalysisState,
  type AnalysisDoc,
  type AnalysisDocInput,
  type AnalysisContext,
  type ProbeResult,
  type Target,
  type BugReport,
  type BugKind,
  type LabelBug,
  type ThetaRule,
  type BugDetectionOptions,
  type TargetChoice,
  type ProbeAccuracy,
  type LayerSelectionOptions,
  type MapInputs,
  type FeatureModel,
  type Probe,
  type LabelMaps,
  type HeatmapVariant,
  type LayerSelectionRule,
  type MapName,
} from './analysis/index.js';

// Selection: similarity metrics and strategies (one table each).
export {
  STRATEGIES,
  STRATEGY_KINDS,
  STRATEGY_SETTINGS,
  StrategySpecSchema,
  parseStrategy,
  formatStrategy,
  strategySpec,
  strategyTitle,
  selectBatch,
  strategyNeeds,
  type StrategyKind,
  type StrategySpec,
  type StrategySpecInput,
  type StrategyEntry,
  type Setting,
  type SettingValues,
  type SettingKey,
  type Settings,
  type ValuesOf,
  type SettingsOfKind,
  type StrategyNeeds,
  type SelectionInput,
  type SelectionOptions,
  type SelectionContext,
  type Selection,
  type Share,
  type MapsInSpace,
  type FeatureLayer,
  type PoolFeatures,
} from './select/strategies.js';
export { prepareSelection, checkNeeds, type SelectionPool, type PrepareOptions } from './select/prepare.js';
export type { ReferenceSet } from './select/baselines.js';
export {
  METRICS,
  METRIC_NAMES,
  scoreCandidates,
  metricValue,
  type MetricName,
  type MetricOptions,
  type MetricSpec,
  type ResolvedMetricOptions,
  type RowMeasure,
} from './select/metrics.js';

// Repair and experiments: the repair loop, its documents, sweeps and statistics.
export { RepairConfigSchema, type RepairConfig, type RepairConfigInput } from './experiment/repair-config.js';
export {
  runRepair,
  startEvaluations,
  type RepairInputs,
  type RepairOptions,
  type RepairResult,
  type StartEvaluations,
  type TrainingSettings,
} from './experiment/repair.js';
export { repairModel, RepairCache, type RepairModelOptions, type RepairRun, type RepairManifest } from './experiment/repair-run.js';
export {
  REPAIR_FILE,
  parseRepairDoc,
  RepairDocSchema,
  RepairRowSchema,
  IterationDocSchema,
  ArmResultSchema,
  type RepairDoc,
  type RepairDocInput,
  type RepairRow,
  type ArmResult,
  type IterationDoc,
} from './experiment/repair-doc.js';
// Your own pool: a labeling queue (mode select) and the labels folded back in (mode repair --add).
export {
  selectQueue,
  proxyLabels,
  type PoolInputs,
  type SelectQueueOptions,
  type SelectQueueSources,
  type QueueSelection,
} from './experiment/select-queue.js';
export { QUEUE_FILE, QueueDocSchema, QueueRowSchema, formatQueueCsv, type QueueDoc, type QueueRow } from './experiment/select-doc.js';
export { ADD_FILE, AddDocSchema, type AddDoc } from './experiment/add-doc.js';
export { foldIn, readLabelsCsv, type AddedInputs, type FoldInOptions, type FoldInResult } from './experiment/add-labels.js';
export { openLabeledData, type LabeledData } from './model/labeled-data.js';
export { criticalDifference, type CriticalDifference, type PairTest } from './experiment/critical-difference.js';
export { summarizeValues, comparePaired, holm, type Summary, type PairedComparison } from './experiment/statistics.js';

// Experiments: grids of repairs over seeds, run into a result store, and their statistics.
export {
  ExperimentConfigSchema,
  parseExperimentConfig,
  loadExperimentConfig,
  expandCells,
  cellDimensions,
  DIMENSIONS,
  type ExperimentConfig,
  type ExperimentConfigInput,
  type Cell,
  type CellConfig,
  type CellSettings,
  type ModelConfig,
  type Dimension,
  type CellFilter,
} from './experiment/experiment-config.js';
export type { ClassSubset } from './experiment/class-subset.js';
export type { FriedmanResult } from './experiment/friedman.js';
export { PRESETS, PRESET_NAMES, presetConfig, type PresetName } from './experiment/presets.js';
export { runSweep, type SweepOptions, type SweepResult } from './experiment/sweep.js';
export { planSweep, type SweepPlan, type PlanOptions } from './experiment/sweep-plan.js';
export type { SweepEvent, SweepCounts } from './experiment/sweep-writer.js';
export {
  ResultStore,
  type CellRecord,
  type StoredCell,
  type StoredFailure,
  type StoreOptions,
  type StoreLocks,
  type Table,
} from './experiment/store.js';
export type { SqlConnection, SqlRunner, SqlValue } from './experiment/store-sql.js';
export {
  summarizeResults,
  validationCurves,
  MEASURES,
  type Measure,
  type ResultsOptions,
  type ExperimentResults,
  type ResultsTable,
  type ResultsRow,
  type Tested,
  type CellValues,
  type LayerSelectionComparison,
  type TableCurves,
} from './experiment/results.js';
