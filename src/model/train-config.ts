/** The configuration of `mode train`, defined once as a schema; the CLI's flags are typed against it. */
import { z } from 'zod';
import { DEFAULT_ENGINE, ENGINE_NAMES } from '../engine/index.js';
import { DEFAULT_NORMALIZE } from '../data/index.js';

export const MAX_SEED = 0xffffffff;

/** Training defaults: Adam 1e-3, batch 64, as in the PyTorch reference (shared/bench). */
export const DEFAULT_EPOCHS = 3;
const DEFAULT_BATCH_SIZE = 64;
const DEFAULT_LEARNING_RATE = 1e-3;
const DEFAULT_SEED = 1;

/** Bug scenarios as configs write them: each kind's option text, e.g. { starve: '3,8:0.02' } (data/scenarios.ts parses them). */
export const ScenarioTextSchema = z.strictObject({
  starve: z.string().optional(),
  small: z.string().optional(),
  noise: z.string().optional(),
});

export const TrainConfigSchema = z.strictObject({
  dataset: z.string().min(1).default('mnist'),
  /**
   * Input normalisation after unit scaling: `unit` or `mean=...;std=...` (data/normalize.ts). A
   * default, so manifests written before it existed still read (as `unit`, what they used).
   */
  normalize: z.string().min(1).default(DEFAULT_NORMALIZE),
  model: z.string().min(1).default('mlp'),
  epochs: z.number().int().positive().default(DEFAULT_EPOCHS),
  batchSize: z.number().int().positive().default(DEFAULT_BATCH_SIZE),
  optimizer: z.enum(['adam', 'sgd']).default('adam'),
  learningRate: z.number().positive().finite().default(DEFAULT_LEARNING_RATE),
  seed: z.number().int().min(0).max(MAX_SEED).default(DEFAULT_SEED),
  trainSize: z.number().int().positive().optional(),
  validationSize: z.number().int().nonnegative().optional(),
  poolSize: z.number().int().nonnegative().optional(),
  scenarios: ScenarioTextSchema.default({}),
  engine: z.enum(ENGINE_NAMES).default(DEFAULT_ENGINE),
});

export type TrainConfig = z.output<typeof TrainConfigSchema>;
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;
