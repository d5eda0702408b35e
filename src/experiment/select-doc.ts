/**
 * queue.json, defined once: the labeling queue `mode select` writes (and `mode repair --add` and the
 * report read). One row per pick, in rank order: where the input is (a file of the pool, or its index
 * in an array pool), the strategy's score, what the model predicts, and the buggy label it serves.
 * queue.csv carries the same rows for labeling tools.
 */
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import type { DocKind } from '../core/json-doc.js';

export const QUEUE_FILE = 'queue.json';
export const QUEUE_CSV = 'queue.csv';
export const QUEUE_KIND = 'mode-queue';
export const QUEUE_VERSION = 1;

export const QueueRowSchema = z.object({
  /** 1 for the first input to label. */
  rank: z.number().int().positive(),
  /** Index of the input in the pool (the sorted file list, or the array's first axis). */
  index: z.number().int().nonnegative(),
  /** The file, relative to the pool folder; null for an array pool. */
  file: z.string().nullable(),
  /** The strategy's score (higher picked first); null for uniform picks. */
  score: z.number().nullable(),
  predicted: z.string(),
  confidence: z.number(),
  /** The buggy label this pick serves (the targeted share of a targeted strategy), else null. */
  serves: z.string().nullable(),
});
export type QueueRow = z.output<typeof QueueRowSchema>;

const PerLabelSchema = z.array(z.number().nullable());

export const QueueDocSchema = z.object({
  kind: z.literal(QUEUE_KIND),
  version: z.literal(QUEUE_VERSION),
  model: z.string(),
  data: z.string(),
  pool: z.string(),
  seed: z.number().int(),
  strategy: z.string(),
  budget: z.number().int().positive(),
  alpha: z.number(),
  /** Where the pool labels that targeted strategies read came from: the model's predictions, or the pool's own labels. */
  poolLabels: z.enum(['predicted', 'pool']),
  classNames: z.array(z.string()),
  /** The analysis on the labeled data (train and validation split from it): per-label accuracy, bugs, and the layer each starts at. */
  analysis: z.object({
    sizes: z.object({ train: z.number().int(), validation: z.number().int(), pool: z.number().int() }),
    /** Train and validation: the split the model was trained with (its manifest), or a seeded share of the labeled data. */
    split: z.enum(['manifest', 'share']),
    train: PerLabelSchema,
    validation: PerLabelSchema,
    bugs: z.array(z.object({ label: z.string(), kind: z.enum(['underfitting', 'overfitting']), layer: z.string().nullable() })),
    /** The label the targeted share serves: the first bug, or the weakest validation label when none is found. */
    target: z.object({ label: z.string(), kind: z.enum(['underfitting', 'overfitting']), why: z.string() }).nullable(),
  }),
  /** How many picks the model predicts as each class. */
  predictedCounts: z.array(z.number().int()),
  rows: z.array(QueueRowSchema),
});
export type QueueDoc = z.output<typeof QueueDocSchema>;

export const QUEUE_DOC: DocKind = { what: 'a queue.json', fix: 'pass the --out folder of `mode select`' };

/** queue.csv: the rows of queue.json for labeling tools, with a `label` column left empty for the labeler. */
export function formatQueueCsv(doc: QueueDoc): string {
  return stringify(
    doc.rows.map((r) => ({ ...r, file: r.file ?? '', score: r.score ?? '', serves: r.serves ?? '', strategy: doc.strategy, label: '' })),
    { header: true, columns: ['rank', 'file', 'index', 'score', 'predicted', 'confidence', 'serves', 'strategy', 'label'] },
  );
}
