/**
 * Seeded train / validation / pool / test splits (docs/method.md section 1). The pool holds labelled
 * inputs the model never sees in training: the candidates for bug-fixing inputs. Test is the
 * dataset's own test file; a dataset without one has its test carved from the training file.
 *
 * One seeded permutation of the training file is cut in a fixed order (carved test, validation,
 * train, pool), so changing the train or pool size leaves validation and test as they were.
 */
import { inputSize, type LabeledSet } from '../core/data-types.js';
import { usageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Dataset } from './datasets.js';

/** Default split of a 60000-example training file (docs/method.md section 1), scaled for other sizes. */
const DEFAULT_SPLIT = { train: 30_000, validation: 5_000, pool: 25_000, of: 60_000 } as const;
/** Share of the training file carved off as test when the dataset has no test file (MNIST's 10k of 70k). */
const CARVED_TEST_SHARE = 1 / 7;

export interface SplitOptions {
  /** Default: half the (remaining) training file. */
  trainSize?: number;
  /** Default: 1/12 of the (remaining) training file. */
  validationSize?: number;
  /** Default: whatever the other parts leave. */
  poolSize?: number;
  /** Default: the whole test file; or, carved from train when there is none, 1/7 of the training file. */
  testSize?: number;
  seed: number;
  /**
   * Split without copying when the parts use at least half the training file: its rows are
   * rearranged in place and the parts are views of it, so the caller must not use `dataset.train`
   * afterwards. Opening MNIST then holds 188 MB of inputs once instead of twice (docs/studies/speed.md).
   */
  inPlace?: boolean;
}

export interface SplitIndices {
  /** Indices into the dataset's training file, ascending. */
  readonly train: Int32Array;
  readonly validation: Int32Array;
  readonly pool: Int32Array;
  /**
   * Indices of test into the training file when carved from it, or into the test file when
   * subsampled; null when test is the whole test file.
   */
  readonly test: Int32Array | null;
}

export interface DataSplits {
  readonly train: LabeledSet;
  readonly validation: LabeledSet;
  readonly pool: LabeledSet;
  readonly test: LabeledSet;
  /** Where test came from: the dataset's test file, or carved from its training file. */
  readonly testSource: 'test-file' | 'carved';
  readonly indices: SplitIndices;
}

/** The split sizes that `splitDataset` would use for these options. */
export interface SplitSizes {
  train: number;
  validation: number;
  pool: number;
  test: number;
}

function checkSize(name: string, value: number | undefined, min: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min)) {
    throw usageError(`${name} must be an integer of at least ${min}, got ${value}`);
  }
}

/** Resolves the sizes for a training file of `trainCount` examples and a test file of `testCount` (null: none). */
export function resolveSplitSizes(trainCount: number, testCount: number | null, options: Omit<SplitOptions, 'seed'>): SplitSizes {
  checkSize('trainSize', options.trainSize, 1);
  checkSize('validationSize', options.validationSize, 1);
  checkSize('poolSize', options.poolSize, 0);
  checkSize('testSize', options.testSize, 1);
  let test: number;
  if (testCount !== null) {
    test = options.testSize ?? testCount;
    if (test > testCount) {
      throw usageError(`testSize ${test} is larger than the test file, which has ${testCount} examples; lower testSize`);
    }
  } else {
    test = options.testSize ?? Math.max(1, Math.floor(trainCount * CARVED_TEST_SHARE));
  }
  const carved = testCount === null ? test : 0;
  const rest = trainCount - carved;
  const train = options.trainSize ?? Math.floor((rest * DEFAULT_SPLIT.train) / DEFAULT_SPLIT.of);
  const validation = options.validationSize ?? Math.floor((rest * DEFAULT_SPLIT.validation) / DEFAULT_SPLIT.of);
  const pool = options.poolSize ?? Math.max(0, rest - train - validation);
  const needed = carved + train + validation + pool;
  if (needed > trainCount || train < 1 || validation < 1) {
    const parts = [`train ${train}`, `validation ${validation}`, `pool ${pool}`];
    if (carved > 0) parts.push(`test ${carved} (carved: the dataset has no test file)`);
    throw usageError(
      `split sizes need ${needed} training examples (${parts.join(' + ')}) but the training file has ${trainCount}; ` +
        `lower the sizes so they fit`,
    );
  }
  return { train, validation, pool, test };
}

/** Seeded train / validation / pool / test splits of a dataset. */
export function splitDataset(dataset: Dataset, options: SplitOptions): DataSplits {
  if (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 0xffffffff) {
    throw usageError(`seed must be an integer in [0, 2^32), got ${options.seed}`);
  }
  const source = dataset.train;
  const sizes = resolveSplitSizes(source.count, dataset.test?.count ?? null, options);
  const rng = new Rng(options.seed).child('split');
  const order = rng.child('train-file').permutation(source.count);
  let at = 0;
  const take = (n: number): Int32Array => {
    const part = order.slice(at, at + n).sort();
    at += n;
    return part;
  };
  // A carved test is the first part of the training file; a test file is used whole or subsampled.
  const testFile = dataset.test;
  const testIndices =
    testFile === null
      ? take(sizes.test)
      : sizes.test < testFile.count
        ? rng.child('test-file').sample(testFile.count, sizes.test).sort()
        : null;
  const carved = testFile === null ? testIndices : null;
  const validation = take(sizes.validation);
  const train = take(sizes.train);
  const pool = take(sizes.pool);
  const parts = [...(carved === null ? [] : [carved]), validation, train, pool];
  const used = parts.reduce((n, p) => n + p.length, 0);
  const views = options.inPlace === true && 2 * used >= source.count ? rowsInPlace(source, parts) : parts.map((p) => subset(source, p));
  const [validationSet, trainSet, poolSet] = views.slice(-3) as [LabeledSet, LabeledSet, LabeledSet];
  return {
    train: trainSet,
    validation: validationSet,
    pool: poolSet,
    test: testFile === null ? views[0]! : testIndices === null ? testFile : subset(testFile, testIndices),
    testSource: testFile === null ? 'carved' : 'test-file',
    indices: { train, validation, pool, test: testIndices },
  };
}

/**
 * The sets `subset(set, parts[k])` would copy, made instead by moving `set`'s rows in place (each
 * row once, following the permutation's cycles) so the parts lie one after another, and returned as
 * views of its arrays. The parts must not share a row; rows in no part end up after them.
 */
function rowsInPlace(set: LabeledSet, parts: readonly Int32Array[]): LabeledSet[] {
  const size = inputSize(set.inputShape);
  // from[d]: the row that lands at row d, the parts' rows first, in order, then the others.
  const from = new Int32Array(set.count);
  const listed = new Uint8Array(set.count);
  let d = 0;
  for (const part of parts)
    for (const row of part) {
      from[d++] = row;
      listed[row] = 1;
    }
  for (let row = 0; row < set.count; row++) if (listed[row] === 0) from[d++] = row;
  const { x, y } = set;
  const held = new Float32Array(size);
  const done = new Uint8Array(set.count);
  for (let start = 0; start < set.count; start++) {
    if (done[start] === 1) continue;
    held.set(x.subarray(start * size, (start + 1) * size));
    const heldLabel = y[start]!;
    let at = start;
    for (;;) {
      done[at] = 1;
      const next = from[at]!;
      if (next === start) {
        x.set(held, at * size);
        y[at] = heldLabel;
        break;
      }
      x.copyWithin(at * size, next * size, (next + 1) * size);
      y[at] = y[next]!;
      at = next;
    }
  }
  const views: LabeledSet[] = [];
  let begin = 0;
  for (const part of parts) {
    const end = begin + part.length;
    views.push({ ...set, x: x.subarray(begin * size, end * size), y: y.subarray(begin, end), count: part.length });
    begin = end;
  }
  return views;
}

/** The examples of `set` at `indices`, in that order (copied). */
export function subset(set: LabeledSet, indices: ArrayLike<number>): LabeledSet {
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i] ?? -1;
    if (!Number.isInteger(index) || index < 0 || index >= set.count) {
      throw usageError(`subset: index ${index} at position ${i} is outside [0, ${set.count})`);
    }
  }
  return subsetUnchecked(set, indices);
}

/** `subset` for indices already known to be in range. */
export function subsetUnchecked(set: LabeledSet, indices: ArrayLike<number>): LabeledSet {
  const size = inputSize(set.inputShape);
  const x = new Float32Array(indices.length * size);
  const y = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i] ?? 0;
    x.set(set.x.subarray(index * size, (index + 1) * size), i * size);
    y[i] = set.y[index] ?? 0;
  }
  return { x, y, count: indices.length, inputShape: set.inputShape, numClasses: set.numClasses };
}

/**
 * Rows of several sets read as one, the sets one after another as concatSets joins them: the same
 * result as subsetUnchecked(concatSets(parts), indices), without copying every part first. The
 * inputs go into `into` (exactly indices.length rows) where given, else into a new array.
 */
export function subsetOfParts(parts: readonly LabeledSet[], indices: ArrayLike<number>, into?: Float32Array): LabeledSet {
  const first = parts[0];
  if (first === undefined) throw usageError('subsetOfParts: no sets given');
  if (parts.length === 1 && into === undefined) return subsetUnchecked(first, indices);
  const size = inputSize(first.inputShape);
  const ends: number[] = [];
  for (const part of parts) ends.push((ends.at(-1) ?? 0) + part.count);
  if (into !== undefined && into.length !== indices.length * size)
    throw usageError(`subsetOfParts: the array given holds ${into.length} values, ${indices.length} rows need ${indices.length * size}`);
  const x = into ?? new Float32Array(indices.length * size);
  const y = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i] ?? 0;
    let p = 0;
    while (p < parts.length - 1 && index >= ends[p]!) p++;
    const row = index - (p === 0 ? 0 : ends[p - 1]!);
    x.set(parts[p]!.x.subarray(row * size, (row + 1) * size), i * size);
    y[i] = parts[p]!.y[row] ?? 0;
  }
  return { x, y, count: indices.length, inputShape: first.inputShape, numClasses: first.numClasses };
}

/** A set given whole or in parts, as parts. */
export function partsOf(set: LabeledSet | readonly LabeledSet[]): readonly LabeledSet[] {
  return 'x' in set ? [set] : set;
}

/**
 * At most `cap` rows of each label of a set given whole or in parts (all of a rarer label), drawn
 * with `rng`, as one set: only those rows are copied. Cap 0: every row, the parts as they are.
 */
export function sampleOfParts(set: LabeledSet | readonly LabeledSet[], cap: number, rng: Rng): readonly LabeledSet[] {
  const parts = partsOf(set);
  if (cap === 0) return parts;
  const y = labelsOfParts(parts);
  return [subsetOfParts(parts, capPerLabel({ y, count: y.length }, cap, rng))];
}

/** The labels of several sets one after another (concatSets' labels, without its inputs). */
export function labelsOfParts(parts: readonly LabeledSet[]): Int32Array {
  const y = new Int32Array(parts.reduce((n, s) => n + s.count, 0));
  let at = 0;
  for (const part of parts) {
    y.set(part.y.subarray(0, part.count), at);
    at += part.count;
  }
  return y;
}

/**
 * Positions of at most `cap` examples of each label of `set`, drawn uniformly without replacement
 * (all of a label with fewer), ascending: a class-balanced sample that keeps every example of a rare label.
 */
function capPerLabel(set: Pick<LabeledSet, 'y' | 'count'>, cap: number, rng: Rng): Int32Array {
  if (!(Number.isInteger(cap) && cap >= 1)) throw usageError(`capPerLabel: cap must be an integer >= 1, got ${cap}`);
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < set.count; i++) {
    const label = set.y[i]!;
    const list = byLabel.get(label);
    if (list === undefined) byLabel.set(label, [i]);
    else list.push(i);
  }
  const kept: number[] = [];
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    const rows = byLabel.get(label)!;
    if (rows.length <= cap) kept.push(...rows);
    else for (const k of rng.sample(rows.length, cap)) kept.push(rows[k]!);
  }
  return Int32Array.from(kept).sort();
}

/** The inputs of several sets one after another (same input shape and classes). */
export function concatSets(sets: readonly LabeledSet[]): LabeledSet {
  const first = sets[0];
  if (first === undefined) throw usageError('concatSets: no sets given');
  const count = sets.reduce((n, s) => n + s.count, 0);
  const size = inputSize(first.inputShape);
  const x = new Float32Array(count * size);
  const y = new Int32Array(count);
  let at = 0;
  for (const s of sets) {
    x.set(s.x, at * size);
    y.set(s.y, at);
    at += s.count;
  }
  return { x, y, count, inputShape: first.inputShape, numClasses: first.numClasses };
}

/** The user's labeled data split for `mode select` and `mode repair --add`: train and validation, seeded. */
export interface LabeledSplits {
  readonly train: LabeledSet;
  readonly validation: LabeledSet;
  /** Positions of train and validation in the dataset's training file, ascending. */
  readonly indices: { readonly train: Int32Array; readonly validation: Int32Array };
}

/**
 * Splits labeled data into train and validation (a share of it, at least one input), seeded: the same
 * seed and data give the same split, so a repair sees the split its selection saw.
 */
export function splitLabeled(set: LabeledSet, options: { seed: number; validationShare: number }): LabeledSplits {
  const { seed, validationShare } = options;
  if (!(validationShare > 0 && validationShare < 1)) throw usageError(`the validation share must be in (0, 1), got ${validationShare}`);
  if (set.count < 2) throw usageError(`labeled data of ${set.count} input(s) cannot be split into train and validation; label more inputs`);
  const count = Math.min(set.count - 1, Math.max(1, Math.round(set.count * validationShare)));
  const order = new Rng(seed).child('labeled-split').permutation(set.count);
  const validation = order.slice(0, count).sort();
  const train = order.slice(count).sort();
  return { train: subsetUnchecked(set, train), validation: subsetUnchecked(set, validation), indices: { train, validation } };
}
