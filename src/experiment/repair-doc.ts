/**
 * repair.json, defined once: the zod schema `repairModel` writes by (its type is the schema's input)
 * and every reader validates with (the report, the result store). Numbers that can be NaN (the
 * accuracy of a label without inputs) are written by JSON as null, so they read as `number | null`.
 * The same document is a result store's `cells.result` column. Fields marked `.optional()` are always
 * written now but absent from files of earlier versions (still version 1), which still read.
 */
import { z } from 'zod';
import { checkDoc, parseDoc, type DocKind } from '../core/json-doc.js';
import { StrategySpecSchema } from '../select/strategies.js';

export const REPAIR_FILE = 'repair.json';
export const REPAIR_KIND = 'mode-repair';
export const REPAIR_VERSION = 1;

const rate = z.number().nullable();
const labelIndex = z.number().int();

const confusion = z.array(z.array(z.number()));
const MetricsSchema = z.object({
  count: z.number().int().optional(),
  accuracy: rate,
  perLabel: z.array(rate),
  support: z.array(z.number().int()).optional(),
  /** confusion[true][predicted]. */
  confusion: confusion.optional(),
});

export const IterationDocSchema = z.object({
  iteration: z.number().int(),
  target: z.object({ label: labelIndex, kind: z.enum(['underfitting', 'overfitting']), layer: z.string().nullable() }).nullable(),
  selected: z.object({
    indices: z.array(z.number().int()),
    labels: z.array(labelIndex),
    scores: z.array(z.number().nullable()).optional(),
    targeted: z.array(z.number()),
    alreadyCorrect: z.array(z.number()),
  }),
  /** Share of the batch (and of its targeted part) that the model already classified correctly. */
  shareAlreadyCorrect: rate,
  shareAlreadyCorrectTargeted: rate.optional(),
  /** Mean pairwise cosine similarity of the picks in input space (targeted picks, or the whole batch when untargeted). */
  meanPairwiseSimilarity: rate.optional(),
  validation: z.object({ accuracy: rate, perLabel: z.array(rate) }),
  /** Test confusion matrix too (confusion[true][predicted]), for the report's before/after matrices. */
  test: z.object({ accuracy: rate, perLabel: z.array(rate), confusion: confusion.optional() }),
  regressions: z.array(z.object({ label: labelIndex, before: z.number(), after: z.number() })),
  rolledBack: z.boolean(),
});

/** One row of the slides' table: a strategy (or the control) against the control at the same number of iterations. */
export const RepairRowSchema = z.object({
  strategy: z.string(),
  initialAcc: z.number(),
  finalAcc: z.number(),
  controlAcc: z.number(),
  finishedEarly: z.boolean(),
  diffIF: z.number(),
  diffFC: z.number(),
  iterations: z.number().int(),
  targetLabel: labelIndex.nullable(),
  targetBefore: rate,
  targetAfter: rate,
  controlTargetAfter: rate.optional(),
  /** Mean test accuracy over the labels buggy at the start. */
  buggyBefore: rate,
  buggyAfter: rate,
  perLabelDelta: z.array(rate).optional(),
});

/** One arm of a repair: a strategy's iterations, or the control's (named 'control'). */
const ArmDocSchema = z.object({
  name: z.string(),
  control: z.boolean(),
  finishedEarly: z.boolean(),
  iterations: z.array(IterationDocSchema),
});

/**
 * An arm as the repair loop returns it: its strategy and timings too. A result store keeps the
 * control arms in this shape (`controls.arm`), so later cells of the same control key reuse them.
 */
export const ArmResultSchema = ArmDocSchema.extend({
  strategy: StrategySpecSchema,
  seconds: z.number(),
  stageSeconds: z.record(z.string(), z.number()),
});
export type ArmResult = z.output<typeof ArmResultSchema>;

export const RepairDocSchema = z.object({
  kind: z.literal(REPAIR_KIND),
  version: z.literal(REPAIR_VERSION),
  /** The model folder repaired. */
  model: z.string(),
  dataset: z.string(),
  scenarios: z.array(z.string()),
  classNames: z.array(z.string()).min(1),
  seed: z.number().int(),
  /** The repair's config (RepairConfig), strategies as their canonical text. */
  config: z.object({
    strategy: z.string(),
    compare: z.array(z.string()),
    iterations: z.number().int(),
    batch: z.number().int(),
    alpha: z.number(),
    retrain: z.string(),
    fineTuneEpochs: z.number().int().optional(),
    layerSelection: z.string(),
    layerOnce: z.boolean().optional(),
    headRowsPerLabel: z.number().int().optional(),
    detectRowsPerLabel: z.number().int().optional(),
    theta: z.number().optional(),
    gamma: z.number().optional(),
    delta: z.number(),
    rollback: z.boolean().optional(),
    earlyStop: z.boolean(),
    minkowskiP: z.number().optional(),
    seed: z.number().int().optional(),
  }),
  initial: z.object({
    validation: MetricsSchema,
    test: MetricsSchema,
    bugs: z.array(z.object({ label: labelIndex, kind: z.enum(['underfitting', 'overfitting']) })),
  }),
  table: z.array(RepairRowSchema).min(1),
  arms: z.array(ArmDocSchema).min(1),
});

/** repair.json as read back. */
export type RepairDoc = z.output<typeof RepairDocSchema>;
/** repair.json as written (NaN allowed where the file will hold null). */
export type RepairDocInput = z.input<typeof RepairDocSchema>;
export type IterationDoc = z.output<typeof IterationDocSchema>;
export type RepairRow = z.output<typeof RepairRowSchema>;

const REPAIR_DOC: DocKind = { what: 'a repair.json', fix: 'pass a folder written by `mode repair`' };

/** repair.json text as `mode repair` writes it. */
export function parseRepairDoc(text: string, file: string): RepairDoc {
  return parseDoc(RepairDocSchema, text, file, REPAIR_DOC);
}

/** A repair document already parsed from JSON (a store row). */
export function checkRepairDoc(value: unknown, where: string): RepairDoc {
  return checkDoc(RepairDocSchema, value, where, REPAIR_DOC);
}

/** A stored control arm. */
export function checkArmResult(value: unknown, where: string): ArmResult {
  return checkDoc(ArmResultSchema, value, where, {
    what: 'a control arm',
    fix: 'the store was written by another version of mode; rerun the experiment into a new --store',
  });
}
