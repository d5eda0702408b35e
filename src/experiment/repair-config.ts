/** The configuration of a repair, defined once as a schema (docs/method.md sections 7-8). */
import { z } from 'zod';
import {
  DEFAULT_DETECT_ROWS_PER_LABEL,
  DEFAULT_GAMMA,
  DEFAULT_HEAD_ROWS_PER_LABEL,
  DEFAULT_THETA,
  LAYER_SELECTION_RULES,
} from '../analysis/index.js';
import { DEFAULT_MINKOWSKI_P } from '../select/metrics.js';
import { StrategySpecSchema } from '../select/strategies.js';

/** Iterations T, batch B and targeted share alpha of docs/method.md section 8 (B = 200: where strategies differ, calibration.md). */
export const DEFAULT_ITERATIONS = 5;
export const DEFAULT_BATCH = 200;
export const DEFAULT_ALPHA = 0.25;
/** Fine-tuning epochs per iteration (calibration.md's prototype). */
export const DEFAULT_FINE_TUNE_EPOCHS = 2;
/** No-regression guard: a non-target label's validation accuracy may drop this much before it is reported. */
export const DEFAULT_DELTA = 0.05;

export const RETRAIN_REGIMES = ['cumulative', 'batch-only', 'scratch'] as const;
export type RetrainRegime = (typeof RETRAIN_REGIMES)[number];

export const RepairConfigSchema = z.strictObject({
  strategy: StrategySpecSchema,
  compare: z.array(StrategySpecSchema).default([]),
  iterations: z.number().int().positive().default(DEFAULT_ITERATIONS),
  batch: z.number().int().positive().default(DEFAULT_BATCH),
  alpha: z.number().min(0).max(1).default(DEFAULT_ALPHA),
  retrain: z.enum(RETRAIN_REGIMES).default('cumulative'),
  fineTuneEpochs: z.number().int().positive().default(DEFAULT_FINE_TUNE_EPOCHS),
  layerSelection: z.enum(LAYER_SELECTION_RULES).default('saturation'),
  layerOnce: z.boolean().default(false),
  /** Feature-model heads train on at most this many training inputs per label; 0: on every input. */
  headRowsPerLabel: z.number().int().min(0).default(DEFAULT_HEAD_ROWS_PER_LABEL),
  /** Bug detection after each retraining measures training accuracy on at most this many inputs per label; 0: on every input. */
  detectRowsPerLabel: z.number().int().min(0).default(DEFAULT_DETECT_ROWS_PER_LABEL),
  theta: z.number().min(0).max(1).default(DEFAULT_THETA),
  gamma: z.number().min(0).max(1).default(DEFAULT_GAMMA),
  delta: z.number().min(0).max(1).default(DEFAULT_DELTA),
  rollback: z.boolean().default(false),
  /**
   * Stop a strategy once no buggy label remains ("finished early"); off: every strategy spends the
   * whole budget, for comparisons at equal budget.
   */
  earlyStop: z.boolean().default(true),
  minkowskiP: z.number().min(1).default(DEFAULT_MINKOWSKI_P),
  seed: z.number().int().min(0).max(0xffffffff),
});

export type RepairConfig = z.output<typeof RepairConfigSchema>;
export type RepairConfigInput = z.input<typeof RepairConfigSchema>;

/**
 * The settings the control arm (random selection) depends on besides the initial model and its data:
 * not the strategy, the layer selection, alpha or early stopping (the control never stops early).
 */
export function controlSettingsOf(config: RepairConfig): Record<string, unknown> {
  const { iterations, batch, retrain, fineTuneEpochs, theta, gamma, delta, rollback, seed, detectRowsPerLabel } = config;
  return { iterations, batch, retrain, fineTuneEpochs, theta, gamma, delta, rollback, seed, detectRowsPerLabel };
}
