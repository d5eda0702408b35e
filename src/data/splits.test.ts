import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LabeledSet } from '../core/data-types.js';
import { ModeError } from '../core/errors.js';
import type { Dataset } from './datasets.js';
import { Rng } from '../core/rng.js';
import {
  concatSets,
  labelsOfParts,
  resolveSplitSizes,
  sampleOfParts,
  splitDataset,
  subset,
  subsetOfParts,
  subsetUnchecked,
} from './splits.js';

/** A dataset whose example i has the single pixel value i and label i % 3, so rows are traceable. */
function traceable(trainCount: number, testCount: number | null): Dataset {
  const make = (count: number, offset: number): LabeledSet => ({
    x: Float32Array.from({ length: count }, (_, i) => i + offset),
    y: Int32Array.from({ length: count }, (_, i) => i % 3),
    count,
    inputShape: [1, 1, 1],
    numClasses: 3,
  });
  return {
    name: 'synthetic',
    spec: 'test',
    train: make(trainCount, 0),
    test: testCount === null ? null : make(testCount, 100_000),
    classNames: ['0', '1', '2'],
    numClasses: 3,
    inputShape: [1, 1, 1],
    files: null,
  };
}

const usage =
  (pattern: RegExp) =>
  (error: unknown): boolean =>
    error instanceof ModeError && error.code === 'usage' && pattern.test(error.message);

test('default sizes for a 60k training file are 30000 / 5000 / 25000, test = the test file', () => {
  assert.deepEqual(resolveSplitSizes(60_000, 10_000, {}), { train: 30_000, validation: 5_000, pool: 25_000, test: 10_000 });
  // No test file: 1/7 carved, the rest split 30:5:25.
  assert.deepEqual(resolveSplitSizes(70_000, null, {}), { train: 30_000, validation: 5_000, pool: 25_000, test: 10_000 });
  // Pool takes whatever the others leave.
  assert.deepEqual(resolveSplitSizes(60_000, 10_000, { trainSize: 1000 }), { train: 1000, validation: 5000, pool: 54_000, test: 10_000 });
});

test('splits are disjoint, of the asked sizes and deterministic per seed', () => {
  const dataset = traceable(1000, 200);
  const a = splitDataset(dataset, { trainSize: 400, validationSize: 100, poolSize: 300, seed: 1 });
  const b = splitDataset(dataset, { trainSize: 400, validationSize: 100, poolSize: 300, seed: 1 });
  const c = splitDataset(dataset, { trainSize: 400, validationSize: 100, poolSize: 300, seed: 2 });
  assert.equal(a.train.count, 400);
  assert.equal(a.validation.count, 100);
  assert.equal(a.pool.count, 300);
  assert.equal(a.test, dataset.test);
  assert.equal(a.testSource, 'test-file');
  assert.equal(a.indices.test, null);
  const all = [...a.indices.train, ...a.indices.validation, ...a.indices.pool];
  assert.equal(new Set(all).size, 800, 'disjoint');
  // Each row holds the example its index names.
  assert.deepEqual(Array.from(a.train.x), Array.from(a.indices.train));
  assert.deepEqual(
    Array.from(a.pool.y),
    Array.from(a.indices.pool, (i) => i % 3),
  );
  assert.deepEqual(a.indices, b.indices);
  assert.notDeepEqual(a.indices.train, c.indices.train);
  // A different train size leaves validation as it was.
  const d = splitDataset(dataset, { trainSize: 200, validationSize: 100, poolSize: 300, seed: 1 });
  assert.deepEqual(d.indices.validation, a.indices.validation);
});

test('test is carved from train when the dataset has none, or subsampled when asked', () => {
  const carved = splitDataset(traceable(700, null), { seed: 3 });
  assert.equal(carved.testSource, 'carved');
  assert.equal(carved.test.count, 100);
  assert.deepEqual([carved.train.count, carved.validation.count, carved.pool.count], [300, 50, 250]);
  const testIndices = carved.indices.test ?? new Int32Array();
  const all = new Set([...testIndices, ...carved.indices.train, ...carved.indices.validation, ...carved.indices.pool]);
  assert.equal(all.size, 700);
  const sub = splitDataset(traceable(600, 200), { testSize: 50, seed: 3 });
  assert.equal(sub.test.count, 50);
  assert.deepEqual(
    Array.from(sub.test.x),
    Array.from(sub.indices.test ?? [], (i) => i + 100_000),
  );
});

test('sizes larger than available are errors with the available count', () => {
  const dataset = traceable(1000, 200);
  assert.throws(
    () => splitDataset(dataset, { trainSize: 900, validationSize: 100, poolSize: 300, seed: 1 }),
    usage(/split sizes need 1300 training examples \(train 900 \+ validation 100 \+ pool 300\) but the training file has 1000/),
  );
  assert.throws(
    () => splitDataset(dataset, { testSize: 500, seed: 1 }),
    usage(/testSize 500 is larger than the test file, which has 200 examples/),
  );
  assert.throws(() => splitDataset(dataset, { trainSize: 0, seed: 1 }), usage(/trainSize must be an integer of at least 1, got 0/));
  assert.throws(() => splitDataset(dataset, { seed: -1 }), usage(/seed must be an integer/));
});

test('subset copies the rows at the indices and checks them', () => {
  const set = traceable(10, null).train;
  const part = subset(set, [7, 2, 7]);
  assert.deepEqual(Array.from(part.x), [7, 2, 7]);
  assert.deepEqual(Array.from(part.y), [1, 2, 1]);
  assert.equal(part.count, 3);
  assert.throws(() => subset(set, [10]), usage(/index 10 at position 0 is outside \[0, 10\)/));
});

test('subsetOfParts reads its parts as one set: the rows and labels of subsetUnchecked(concatSets(parts))', () => {
  const set = traceable(10, null).train;
  const parts = [subset(set, [0, 1, 2, 3]), subset(set, [4]), subset(set, [5, 6, 7, 8, 9])];
  const indices = [9, 0, 4, 3, 5, 4, 8];
  const joined = subsetUnchecked(concatSets(parts), indices);
  const read = subsetOfParts(parts, indices);
  assert.deepEqual(Array.from(read.x), [9, 0, 4, 3, 5, 4, 8]);
  assert.deepEqual(read, joined);
  assert.deepEqual(labelsOfParts(parts), concatSets(parts).y);
  assert.deepEqual(subsetOfParts([set], [2]), subsetUnchecked(set, [2]));
  assert.throws(() => subsetOfParts([], [0]), usage(/no sets given/));
  // Into the caller's array (a scratch's view), one part or several: the same set, in that array.
  for (const from of [parts, [set]]) {
    const into = new Float32Array(indices.length).fill(NaN);
    const written = subsetOfParts(from, indices, into);
    assert.equal(written.x, into);
    assert.deepEqual({ ...written, x: Array.from(written.x) }, { ...joined, x: Array.from(joined.x) });
  }
  assert.throws(() => subsetOfParts(parts, indices, new Float32Array(3)), usage(/holds 3 values, 7 rows need 7/));
});

test('sampleOfParts keeps at most cap rows of each label across the parts, all of a rarer label; cap 0 keeps the parts', () => {
  const set = traceable(10, null).train;
  const parts = [subset(set, [0, 1, 2, 3, 4]), subset(set, [5, 6, 7, 8, 9])];
  const counts = (y: Int32Array): Map<number, number> => y.reduce((m, l) => m.set(l, (m.get(l) ?? 0) + 1), new Map<number, number>());
  const all = counts(labelsOfParts(parts));
  const [sample, ...rest] = sampleOfParts(parts, 2, new Rng(3));
  assert.equal(rest.length, 0);
  for (const [label, n] of counts(sample!.y)) assert.equal(n, Math.min(2, all.get(label)!), `label ${label}`);
  // Each row keeps its own label (traceable rows hold their index).
  for (let i = 0; i < sample!.count; i++) assert.equal(sample!.y[i], set.y[sample!.x[i]!]);
  assert.deepEqual(sampleOfParts(parts, 2, new Rng(3)), [sample], 'the same seed draws the same rows');
  assert.equal(sampleOfParts(parts, 0, new Rng(3))[1], parts[1]);
});

test('an in-place split gives the rows and labels of a copying one, as views of the training file, and copies when it uses under half', () => {
  /** Two values a row (i and -i), so a row moved by the wrong stride shows. */
  const wide = (trainCount: number, testCount: number | null): Dataset => {
    const set = traceable(trainCount, testCount);
    const widen = (s: LabeledSet): LabeledSet => ({
      ...s,
      x: Float32Array.from({ length: 2 * s.count }, (_, k) => (k % 2 === 0 ? 1 : -1) * s.x[k >> 1]!),
      inputShape: [1, 2, 1],
    });
    return { ...set, train: widen(set.train), test: set.test === null ? null : widen(set.test), inputShape: [1, 2, 1] };
  };
  const cases = [
    { testCount: 40, sizes: { trainSize: 100, validationSize: 30, poolSize: 70 }, inPlace: true },
    { testCount: null, sizes: { trainSize: 90, validationSize: 20, poolSize: 40 }, inPlace: true },
    { testCount: 40, sizes: { trainSize: 50, validationSize: 10, poolSize: 20 }, inPlace: false },
  ];
  for (const { testCount, sizes, inPlace } of cases) {
    const copied = splitDataset(wide(200, testCount), { ...sizes, seed: 7 });
    const dataset = wide(200, testCount);
    const split = splitDataset(dataset, { ...sizes, seed: 7, inPlace: true });
    for (const part of ['train', 'validation', 'pool', 'test'] as const) {
      assert.deepEqual(Array.from(split[part].x), Array.from(copied[part].x), `${part}'s inputs, test file ${testCount}`);
      assert.deepEqual(Array.from(split[part].y), Array.from(copied[part].y), `${part}'s labels`);
      assert.equal(split[part].count, copied[part].count);
    }
    assert.deepEqual(split.indices, copied.indices);
    assert.equal(split.train.x.buffer === dataset.train.x.buffer, inPlace, 'views of the training file only when in place');
  }
});
