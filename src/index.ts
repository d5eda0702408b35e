/** The public API of mode: the one thing cli/, report/ and bench/ import. */
export * from './core/errors.js';
export { Rng, deriveSeed } from './core/rng.js';
export type { ProgressEvent, ProgressCallback } from './core/progress.js';
export type { InputShape, LabeledSet } from './core/data-types.js';
export { runEnvironment } from './core/environment.js';
export { createEngine, ENGINE_NAMES, type EngineName } from './engine/index.js';
export type * from './engine/types.js';
export * from './data/index.js';
export { ARCHITECTURES, ARCHITECTURE_NAMES, resolveArchitecture, parseArchitectureJson } from './model/architectures.js';
export { argmaxRows, classificationMetrics, type ClassificationMetrics } from './model/metrics.js';
export { evaluate, type Evaluation } from './model/evaluate.js';
export { evaluateModelFolder, type EvalResult } from './model/eval.js';
export { loadModelFolder, saveModelFolder, type ModelManifest, type ModelMetrics } from './model/model-folder.js';
export { prepareData, type RunData } from './model/prepare-data.js';
export { TrainConfigSchema, type TrainConfig, type TrainConfigInput } from './model/train-config.js';
export { trainModel, resolveTrainConfig, type TrainResult } from './model/train.js';
export { analyzeModel, type AnalysisResult } from './analysis/index.js';
export {
  parseStrategy,
  formatStrategy,
  strategySpec,
  STRATEGIES,
  STRATEGY_KINDS,
  type StrategySpec,
  type StrategyKind,
} from './select/strategies.js';
export { METRIC_NAMES, scoreCandidates, type MetricName } from './select/metrics.js';
export { RepairConfigSchema, type RepairConfig, type RepairConfigInput } from './experiment/repair-config.js';
export { runRepair, type RepairResult, type RepairRow } from './experiment/repair.js';
export { repairModel, type RepairRun } from './experiment/repair-run.js';
export { REPAIR_FILE, parseRepairDoc, type RepairDoc } from './experiment/repair-doc.js';
export { summarizeValues, comparePaired, holm, type Summary, type PairedComparison } from './experiment/statistics.js';
