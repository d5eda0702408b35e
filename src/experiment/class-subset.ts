/**
 * Class subsets, for the slides' future work (how the number of classes relates to the best ratio of
 * targeted to random inputs). A subset is either a count k, which keeps the inputs labelled 0..k-1,
 * or a list of labels, which keeps those and relabels them by their place in the list: [3, 5] makes
 * the threes label 0 and the fives label 1, and classes.txt keeps their names ('3', '5'). A list lets
 * a study hold the starved label and its confusers in every subset (put the starved label first and
 * a scenario such as 'starve 0:0.02' starves it in each).
 *
 * The subset is written once as an IDX folder (`idx:DIR`, with classes.txt naming the kept classes)
 * and models are trained on that spec, so every later stage (repair reopens a model's data from its
 * manifest) sees the same data without knowing about subsets. IDX holds bytes: pixel values are
 * stored as round(255 x) clamped to [0, 255], exact for MNIST-like data (which is bytes / 255) and
 * an 8-bit quantisation for generated data.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { LabeledSet } from '../core/data-types.js';
import { dataError } from '../core/errors.js';
import { writeJson, writeOutputFolder } from '../core/output-folder.js';
import { IDX_FILE_NAMES, loadDataset, writeIdx } from '../data/index.js';

export const SUBSET_FILE = 'subset.json';

/** A class subset: the first k classes, or these labels in this order (distinct). */
export type ClassSubset = number | readonly number[];

/** How a subset is written in labels, tables and `--where`: '5', or '3/5/8' for a list. */
export function describeClassSubset(subset: ClassSubset): string {
  return typeof subset === 'number' ? String(subset) : subset.join('/');
}

/** The source labels a subset keeps, in their new order (new label = index). */
function subsetLabels(subset: ClassSubset): number[] {
  return typeof subset === 'number' ? Array.from({ length: subset }, (_, i) => i) : [...subset];
}

/** The IDX dataset spec of `dataset` restricted to a class subset, written under `dir` unless already there. */
export async function materializeClassSubset(dataset: string, subset: ClassSubset, dir: string): Promise<string> {
  const spec = `idx:${path.resolve(dir)}`;
  if (existsSync(path.join(dir, SUBSET_FILE))) return spec;
  const source = await loadDataset(dataset);
  const labels = subsetLabels(subset);
  const what = `class subset ${describeClassSubset(subset)} of ${dataset}`;
  const missing = labels.filter((l) => l >= source.numClasses);
  if (missing.length > 0) {
    throw dataError(
      typeof subset === 'number'
        ? `${what}: the dataset has only ${source.numClasses} classes; use a subset of at most ${source.numClasses}`
        : `${what}: label ${missing[0]} is not a class of the dataset (labels 0..${source.numClasses - 1}); ` +
            `list labels of the dataset only`,
    );
  }
  // new label of each source label; -1: dropped
  const newLabel = new Int32Array(source.numClasses).fill(-1);
  labels.forEach((l, i) => {
    newLabel[l] = i;
  });
  await writeOutputFolder(dir, false, async (staging) => {
    const counts: Record<string, number> = {};
    const write = async (set: LabeledSet, imagesName: string, labelsName: string, part: string): Promise<void> => {
      const kept = keptRows(set, newLabel);
      if (kept.length === 0) throw dataError(`${what}: no ${part} inputs with one of its labels`);
      const [h, w, c] = set.inputShape;
      const size = h * w * c;
      const pixels = new Uint8Array(kept.length * size);
      const newLabels = new Uint8Array(kept.length);
      kept.forEach((row, i) => {
        newLabels[i] = newLabel[set.y[row]!]!;
        for (let j = 0; j < size; j++) pixels[i * size + j] = Math.min(255, Math.max(0, Math.round(set.x[row * size + j]! * 255)));
      });
      writeIdx(path.join(staging, imagesName), c === 1 ? [kept.length, h, w] : [kept.length, h, w, c], pixels);
      writeIdx(path.join(staging, labelsName), [kept.length], newLabels);
      counts[part] = kept.length;
    };
    await write(source.train, IDX_FILE_NAMES.trainImages, IDX_FILE_NAMES.trainLabels, 'train');
    if (source.test !== null) await write(source.test, IDX_FILE_NAMES.testImages, IDX_FILE_NAMES.testLabels, 'test');
    const classNames = labels.map((l) => source.classNames[l]!);
    await fs.writeFile(path.join(staging, 'classes.txt'), classNames.join('\n') + '\n');
    await writeJson(path.join(staging, SUBSET_FILE), {
      kind: 'mode-class-subset',
      dataset,
      classes: labels.length,
      labels,
      classNames,
      counts,
    });
  });
  return spec;
}

function keptRows(set: LabeledSet, newLabel: Int32Array): number[] {
  const rows: number[] = [];
  for (let i = 0; i < set.count; i++) if (newLabel[set.y[i]!]! >= 0) rows.push(i);
  return rows;
}
