/**
 * Folding new labels back in (`mode repair --add`): what a labeler returns, read and checked, then a
 * cumulative retraining (the new inputs plus as many replayed training inputs) with per-label
 * validation accuracy before and after and the no-regression guard. The labels come as a CSV of
 * `file,label` (or `index,label` for an array pool; the `label` column of queue.csv filled in), whose
 * files are inputs of the pool, or as a folder of class subfolders of images.
 */
import { parse } from 'csv-parse/sync';
import type { LabeledSet } from '../core/data-types.js';
import { inputSize } from '../core/data-types.js';
import { mapClassesByName } from '../data/index.js';
import { dataError, ModeError, usageError } from '../core/errors.js';
import { noProgress, type ProgressCallback } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import type { Model } from '../engine/index.js';
import { evaluate, summarize } from '../model/evaluate.js';
import type { ClassificationMetrics } from '../model/metrics.js';
import type { PoolInputs } from './select-queue.js';
import { fineTuneCumulative, regressionsOf, type TrainingSettings } from './repair.js';

/** New labeled inputs, with where each came from (a pool file, a pool index, or an image file). */
export interface AddedInputs {
  readonly set: LabeledSet;
  readonly sources: readonly string[];
}

/**
 * Reads a labels CSV against the pool: a `label` column (a class name, or a class index when the
 * names are numbers) and a `file` column (relative to the pool folder) or an `index` column (into an
 * array pool). Unknown classes, files not in the pool, duplicates and rows without a label are refused,
 * each with one line naming the row; `allowed` (the queue's indices, when given) refuses inputs the
 * queue did not ask for.
 */
export function readLabelsCsv(
  text: string,
  file: string,
  pool: PoolInputs,
  classNames: readonly string[],
  allowed: ReadonlySet<number> | null,
): AddedInputs {
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skip_empty_lines: true, trim: true });
  } catch (error) {
    throw dataError(`${file} is not a readable CSV (${(error as Error).message}); expected a header row with file,label`);
  }
  const header = records.length > 0 ? Object.keys(records[0]!) : [];
  const key = header.includes('file') && pool.files !== null ? 'file' : header.includes('index') ? 'index' : null;
  if (!header.includes('label') || key === null) {
    throw dataError(
      `${file}: needs a 'label' column and a '${pool.files !== null ? 'file' : 'index'}' column ` +
        `(found ${header.length === 0 ? 'no header' : header.join(', ')}); write file,label rows, as queue.csv with its label column filled`,
    );
  }
  const byFile = pool.files === null ? null : new Map(pool.files.map((f, i) => [f, i]));
  const seen = new Map<number, number>();
  const indices: number[] = [];
  const labels: number[] = [];
  records.forEach((record, r) => {
    const row = r + 2; // the header is line 1
    const where = `${file} line ${row}`;
    const name = record['label'] ?? '';
    if (name === '') return; // a queued input the labeler skipped
    const ref = record[key] ?? '';
    const index = key === 'file' ? byFile!.get(ref) : /^\d+$/.test(ref) ? Number(ref) : undefined;
    if (index === undefined || index >= pool.count) {
      throw dataError(`${where}: ${key} '${ref}' is not in the pool (${pool.count} inputs); label inputs of the pool the queue came from`);
    }
    if (allowed !== null && !allowed.has(index)) {
      throw dataError(`${where}: ${key} '${ref}' is not in the queue; label the inputs queue.csv lists, or drop --queue`);
    }
    const label = classIndex(name, classNames);
    if (label === null) {
      throw dataError(`${where}: unknown class '${name}'; the model's classes are [${classNames.join(', ')}]`);
    }
    const earlier = seen.get(index);
    if (earlier !== undefined) throw dataError(`${where}: ${key} '${ref}' is labeled twice (first on line ${earlier}); keep one row`);
    seen.set(index, row);
    indices.push(index);
    labels.push(label);
  });
  if (indices.length === 0) throw dataError(`${file} labels no input (every label cell is empty); fill in the label column`);
  const size = inputSize(pool.inputShape);
  const x = new Float32Array(indices.length * size);
  indices.forEach((index, k) => x.set(pool.x.subarray(index * size, (index + 1) * size), k * size));
  return {
    set: { x, y: Int32Array.from(labels), count: indices.length, inputShape: pool.inputShape, numClasses: classNames.length },
    sources: indices.map((i) => pool.files?.[i] ?? String(i)),
  };
}

/** A class by name, or by index when the label is a number and no class has that name. */
function classIndex(name: string, classNames: readonly string[]): number | null {
  const byName = classNames.indexOf(name);
  if (byName >= 0) return byName;
  return /^\d+$/.test(name) && Number(name) < classNames.length ? Number(name) : null;
}

/**
 * New inputs from a folder of class subfolders, whose class names (sorted folder names, as the image
 * loader gives them) are mapped onto the model's.
 */
export function remapClasses(set: LabeledSet, folderClasses: readonly string[], classNames: readonly string[], folder: string): LabeledSet {
  const { y, unknown } = mapClassesByName(set.y, folderClasses, classNames);
  if (unknown.length > 0) {
    throw dataError(
      `${folder}: class folder${unknown.length === 1 ? '' : 's'} ${unknown.map((u) => `'${u}'`).join(', ')} ` +
        `${unknown.length === 1 ? 'is' : 'are'} not a class of the model [${classNames.join(', ')}]; rename or remove ${unknown.length === 1 ? 'it' : 'them'}`,
    );
  }
  return { ...set, y, numClasses: classNames.length };
}

export interface FoldInOptions {
  readonly training: TrainingSettings;
  readonly epochs: number;
  readonly delta: number;
  readonly seed: number;
}

export interface FoldInResult {
  readonly before: { readonly validation: ClassificationMetrics; readonly test: ClassificationMetrics | null };
  readonly after: { readonly validation: ClassificationMetrics; readonly test: ClassificationMetrics | null };
  /** Labels whose validation accuracy fell by more than delta. */
  readonly regressions: { label: number; before: number; after: number }[];
  readonly addedPerLabel: number[];
  readonly replayed: number;
  readonly seconds: number;
}

/**
 * Retrains `model` in place on the added inputs plus as many training inputs replayed (the cumulative
 * regime of the repair loop), and measures validation (and test, where there is one) before and after.
 */
export async function foldIn(
  model: Model,
  data: { readonly train: LabeledSet; readonly validation: LabeledSet; readonly test: LabeledSet | null },
  added: LabeledSet,
  options: FoldInOptions,
  onProgress: ProgressCallback = noProgress,
): Promise<FoldInResult> {
  if (added.count === 0) throw new ModeError('usage', 'no inputs to add; label some inputs of the queue first');
  const started = performance.now();
  const test = async (m: Model): Promise<ClassificationMetrics | null> =>
    data.test === null ? null : summarize(await evaluate(m, data.test));
  const before = { validation: summarize(await evaluate(model, data.validation)), test: await test(model) };
  onProgress({
    type: 'stage',
    stage: 'retrain',
    message: `retraining on ${added.count} new inputs and ${Math.min(added.count, data.train.count)} replayed ones`,
  });
  const replayed = await fineTuneCumulative(model, added, data.train, options.training, options.epochs, new Rng(options.seed));
  const after = { validation: summarize(await evaluate(model, data.validation)), test: await test(model) };
  const regressions = regressionsOf(before.validation.perLabel, after.validation.perLabel, options.delta);
  const addedPerLabel = new Array<number>(added.numClasses).fill(0);
  for (const y of added.y) addedPerLabel[y]!++;
  return { before, after, regressions, addedPerLabel, replayed, seconds: (performance.now() - started) / 1000 };
}

/** Refuses added inputs whose shape is not the model's. */
export function checkAddedShape(added: LabeledSet, model: Model, source: string): void {
  if (!model.inputShape.every((d, i) => d === added.inputShape[i])) {
    throw usageError(
      `${source}: inputs of shape [${added.inputShape.join(', ')}] but the model takes [${model.inputShape.join(', ')}]; ` +
        `load them resized to the model's input`,
    );
  }
}
