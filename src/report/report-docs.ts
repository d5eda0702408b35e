/**
 * The documents a report is made from, as `mode analyze` and `mode repair` write them (analysis.json,
 * repair.json), defined once as zod schemas. Parsing checks the parts the report reads and nothing
 * else, so a newer file with more fields still reads; a file that is not ours fails with one line
 * naming the file and the first field that does not fit.
 */
import { z } from 'zod';
import { ModeError } from '../core/errors.js';
import { MAP_NAMES } from '../analysis/index.js';

/** JSON writes NaN (a label without inputs) as null. */
const rate = z.number().nullable();
const Metrics = z.object({ accuracy: rate, perLabel: z.array(rate), confusion: z.array(z.array(z.number())).optional() });

export const AnalysisDocSchema = z.object({
  kind: z.literal('mode-analysis'),
  version: z.literal(1),
  modelDir: z.string(),
  dataset: z.string(),
  classNames: z.array(z.string()).min(1),
  seed: z.number(),
  options: z.object({ heatmap: z.string(), layerSelection: z.string() }),
  theta: z.number(),
  gamma: z.number(),
  model: z.object({ train: Metrics, validation: Metrics }),
  bugs: z.array(z.object({ label: z.number().int(), kind: z.enum(['underfitting', 'overfitting']), trainAccuracy: rate, validationAccuracy: rate })),
  probes: z.array(z.object({ name: z.string(), type: z.string(), shape: z.array(z.number().int()), train: Metrics, validation: Metrics })),
  targets: z.array(z.object({ label: z.number().int(), kind: z.string(), probe: z.number().int(), layerName: z.string(), rule: z.string(), reason: z.string() })),
  maps: z.array(z.object({
    label: z.number().int(),
    variant: z.string(),
    shape: z.array(z.number().int().positive()),
    counts: z.object({ correct: z.number(), missed: z.number(), wronglyClaimed: z.number() }),
    confusedWith: z.number().int(),
    layerName: z.string().nullable(),
    maps: z.object(Object.fromEntries(MAP_NAMES.map((m) => [m, z.array(rate)])) as Record<(typeof MAP_NAMES)[number], z.ZodArray<typeof rate>>),
  })),
});
export type AnalysisDoc = z.infer<typeof AnalysisDocSchema>;

const IterationDoc = z.object({
  iteration: z.number().int(),
  target: z.object({ label: z.number().int(), kind: z.string(), layer: z.string().nullable() }).nullable(),
  selected: z.object({ indices: z.array(z.number().int()), labels: z.array(z.number().int()), targeted: z.array(z.number()), alreadyCorrect: z.array(z.number()) }),
  shareAlreadyCorrect: rate,
  validation: Metrics,
  test: Metrics,
  regressions: z.array(z.object({ label: z.number().int(), before: z.number(), after: z.number() })),
  rolledBack: z.boolean(),
});
export type IterationDoc = z.infer<typeof IterationDoc>;

export const RepairDocSchema = z.object({
  kind: z.literal('mode-repair'),
  version: z.literal(1),
  model: z.string(),
  dataset: z.string(),
  scenarios: z.array(z.string()),
  classNames: z.array(z.string()).min(1),
  seed: z.number(),
  config: z.object({
    strategy: z.string(), compare: z.array(z.string()), iterations: z.number().int(), batch: z.number().int(), alpha: z.number(), retrain: z.string(),
    layerSelection: z.string(), delta: z.number(), earlyStop: z.boolean(),
  }),
  initial: z.object({ validation: Metrics, test: Metrics, bugs: z.array(z.object({ label: z.number().int(), kind: z.string() })) }),
  table: z.array(z.object({
    strategy: z.string(), initialAcc: z.number(), finalAcc: z.number(), controlAcc: z.number(), finishedEarly: z.boolean(), diffIF: z.number(), diffFC: z.number(),
    iterations: z.number().int(), targetLabel: z.number().int().nullable(), targetBefore: rate, targetAfter: rate, buggyBefore: rate, buggyAfter: rate,
  })).min(1),
  arms: z.array(z.object({ name: z.string(), control: z.boolean(), finishedEarly: z.boolean(), iterations: z.array(IterationDoc) })).min(1),
});
export type RepairDoc = z.infer<typeof RepairDocSchema>;

function parseDoc<T>(schema: z.ZodType<T>, text: string, file: string, what: string, fix: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ModeError('data', `${file} is not JSON (${(error as Error).message}); ${fix}`);
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const kind = typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
  const reason = kind === undefined ? 'it has no "kind" field' : `bad field${where}: ${issue.message}`;
  throw new ModeError('data', `${file} is not ${what} of this mode (${reason}); ${fix}`);
}

/** analysis.json as `mode analyze` writes it. */
export function parseAnalysisDoc(text: string, file: string): AnalysisDoc {
  return parseDoc(AnalysisDocSchema, text, file, 'an analysis.json', 'pass a folder written by `mode analyze`');
}

/** repair.json as `mode repair` writes it. */
export function parseRepairDoc(text: string, file: string): RepairDoc {
  return parseDoc(RepairDocSchema, text, file, 'a repair.json', 'pass a folder written by `mode repair`');
}
