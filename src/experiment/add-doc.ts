/**
 * repair-add.json, defined once: what `mode repair --add` did with a labeler's answers: the inputs
 * added per class, per-label accuracy before and after (validation decides, test is reported), and
 * the no-regression guard.
 */
import { z } from 'zod';

export const ADD_FILE = 'repair-add.json';
export const ADD_KIND = 'mode-repair-add';
export const ADD_VERSION = 1;

const MetricsSchema = z.object({ accuracy: z.number().nullable(), perLabel: z.array(z.number().nullable()) });
const BeforeAfterSchema = z.object({ validation: MetricsSchema, test: MetricsSchema.nullable() });

export const AddDocSchema = z.object({
  kind: z.literal(ADD_KIND),
  version: z.literal(ADD_VERSION),
  model: z.string(),
  data: z.string(),
  added: z.string(),
  seed: z.number().int(),
  classNames: z.array(z.string()),
  config: z.object({ epochs: z.number().int(), batchSize: z.number().int(), learningRate: z.number(), delta: z.number() }),
  sizes: z.object({ train: z.number().int(), validation: z.number().int(), test: z.number().int().nullable(), replayed: z.number().int() }),
  addedPerLabel: z.array(z.number().int()),
  /** Where each added input came from: a pool file, a pool index, or an image file. */
  sources: z.array(z.string()),
  before: BeforeAfterSchema,
  after: BeforeAfterSchema,
  guard: z.object({
    passed: z.boolean(),
    regressions: z.array(z.object({ label: z.string(), before: z.number(), after: z.number() })),
  }),
  /** The repaired model's files, relative to the output folder. */
  outputs: z.array(z.string()),
});
export type AddDoc = z.output<typeof AddDocSchema>;
