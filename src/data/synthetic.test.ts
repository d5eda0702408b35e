import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModeError } from '../core/errors.js';
import { makeSynthetic, parseSyntheticSpec } from './synthetic.js';

test('synthetic defaults: 3 classes of 8x8x1, 600 train, 100 test, balanced, values in [0, 1]', () => {
  const data = makeSynthetic(parseSyntheticSpec(''));
  assert.equal(data.train.count, 600);
  assert.equal(data.test?.count, 100);
  assert.deepEqual(data.train.inputShape, [8, 8, 1]);
  assert.equal(data.train.numClasses, 3);
  assert.deepEqual(data.classNames, ['0', '1', '2']);
  assert.equal(data.train.x.length, 600 * 64);
  assert.ok(data.train.x.every((v) => v >= 0 && v <= 1));
  const counts = [0, 0, 0];
  for (const label of data.train.y) counts[label] = (counts[label] ?? 0) + 1;
  assert.deepEqual(counts, [200, 200, 200]);
});

test('synthetic is deterministic per seed', () => {
  const a = makeSynthetic(parseSyntheticSpec('classes=4,size=6,n=200', 7));
  const b = makeSynthetic(parseSyntheticSpec('classes=4,size=6,n=200', 7));
  const c = makeSynthetic(parseSyntheticSpec('classes=4,size=6,n=200', 8));
  const d = makeSynthetic(parseSyntheticSpec('classes=4,size=6,n=200,seed=8', 7));
  assert.deepEqual(a.train.x, b.train.x);
  assert.deepEqual(a.train.y, b.train.y);
  assert.deepEqual(a.test?.x, b.test?.x);
  assert.notDeepEqual(a.train.x, c.train.x);
  assert.deepEqual(c.train.x, d.train.x, 'a seed in the spec wins over the option');
});

test('synthetic classes are separable: nearest class mean scores high on test', () => {
  const { train, test: testSet } = makeSynthetic(parseSyntheticSpec('classes=5,size=8,n=500,test=500', 3));
  assert.ok(testSet !== null);
  const pixels = 64;
  const means = Array.from({ length: 5 }, () => new Float64Array(pixels));
  const counts = new Array<number>(5).fill(0);
  for (let i = 0; i < train.count; i++) {
    const label = train.y[i] ?? 0;
    counts[label] = (counts[label] ?? 0) + 1;
    for (let j = 0; j < pixels; j++) (means[label] as Float64Array)[j] = (means[label]?.[j] ?? 0) + (train.x[i * pixels + j] ?? 0);
  }
  means.forEach((m, label) => m.forEach((v, j) => (m[j] = v / (counts[label] ?? 1))));
  let correct = 0;
  for (let i = 0; i < testSet.count; i++) {
    let best = -1;
    let bestDistance = Infinity;
    means.forEach((m, label) => {
      let distance = 0;
      for (let j = 0; j < pixels; j++) distance += ((testSet.x[i * pixels + j] ?? 0) - (m[j] ?? 0)) ** 2;
      if (distance < bestDistance) [best, bestDistance] = [label, distance];
    });
    if (best === testSet.y[i]) correct++;
  }
  assert.ok(correct / testSet.count > 0.97, `nearest-mean accuracy ${correct / testSet.count}`);
});

test('bad synthetic parameters are usage errors', () => {
  const usage =
    (pattern: RegExp) =>
    (error: unknown): boolean =>
      error instanceof ModeError && error.code === 'usage' && pattern.test(error.message);
  assert.throws(() => parseSyntheticSpec('classes=1'), usage(/classes must be an integer in \[2, 1000\], got '1'/));
  assert.throws(
    () => parseSyntheticSpec('colour=3'),
    usage(/unknown parameter 'colour': must be one of \[classes, size, n, test, noise, seed\]/),
  );
  assert.throws(() => parseSyntheticSpec('noise=2'), usage(/noise must be a number in \[0, 1\], got '2'/));
  assert.throws(() => parseSyntheticSpec('size'), usage(/'size' is not key=value/));
  assert.throws(() => parseSyntheticSpec('classes=5,n=3'), usage(/n \(3\) must be at least the number of classes \(5\)/));
});
