/**
 * Class subsets, for the slides' future work (how the number of classes relates to the best ratio of
 * targeted to random inputs): a subset of k classes keeps the inputs labelled 0..k-1 of the training
 * and test files and drops the others (labels stay 0..k-1, so no relabelling is needed).
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

/** The IDX dataset spec of `dataset` restricted to its first k classes, written under `dir` unless already there. */
export async function materializeClassSubset(dataset: string, k: number, dir: string): Promise<string> {
  const spec = `idx:${path.resolve(dir)}`;
  if (existsSync(path.join(dir, SUBSET_FILE))) return spec;
  const source = await loadDataset(dataset);
  if (k > source.numClasses) throw dataError(`class subset ${k} of ${dataset}: the dataset has only ${source.numClasses} classes; use a subset of at most ${source.numClasses}`);
  await writeOutputFolder(dir, false, async (staging) => {
    const counts: Record<string, number> = {};
    const write = async (set: LabeledSet, imagesName: string, labelsName: string, what: string): Promise<void> => {
      const kept = keptRows(set, k);
      if (kept.length === 0) throw dataError(`class subset ${k} of ${dataset}: no ${what} inputs with a label below ${k}`);
      const [h, w, c] = set.inputShape;
      const size = h * w * c;
      const pixels = new Uint8Array(kept.length * size);
      const labels = new Uint8Array(kept.length);
      kept.forEach((row, i) => {
        labels[i] = set.y[row]!;
        for (let j = 0; j < size; j++) pixels[i * size + j] = Math.min(255, Math.max(0, Math.round(set.x[row * size + j]! * 255)));
      });
      writeIdx(path.join(staging, imagesName), c === 1 ? [kept.length, h, w] : [kept.length, h, w, c], pixels);
      writeIdx(path.join(staging, labelsName), [kept.length], labels);
      counts[what] = kept.length;
    };
    await write(source.train, IDX_FILE_NAMES.trainImages, IDX_FILE_NAMES.trainLabels, 'train');
    if (source.test !== null) await write(source.test, IDX_FILE_NAMES.testImages, IDX_FILE_NAMES.testLabels, 'test');
    await fs.writeFile(path.join(staging, 'classes.txt'), source.classNames.slice(0, k).join('\n') + '\n');
    await writeJson(path.join(staging, SUBSET_FILE), { kind: 'mode-class-subset', dataset, classes: k, classNames: source.classNames.slice(0, k), counts });
  });
  return spec;
}

function keptRows(set: LabeledSet, k: number): number[] {
  const rows: number[] = [];
  for (let i = 0; i < set.count; i++) if (set.y[i]! < k) rows.push(i);
  return rows;
}
