import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModeError } from '../core/errors.js';
import { loadDataset } from './datasets.js';
import { applyNormalize, canonicalNormalize, parseNormalize } from './normalize.js';

const usage =
  (pattern: RegExp) =>
  (error: unknown): boolean =>
    error instanceof ModeError && error.code === 'usage' && pattern.test(error.message);

test('normalisation specs: unit, mean/std per channel or for all, canonical text', () => {
  assert.deepEqual(parseNormalize('unit'), { kind: 'unit' });
  assert.deepEqual(parseNormalize('mean=0.485,0.456,0.406;std=0.229,0.224,0.225'), {
    kind: 'mean-std',
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  });
  assert.equal(canonicalNormalize(' std = 0.5 ; mean=0.1 '), 'mean=0.1;std=0.5');
  assert.throws(() => parseNormalize('mean=NaN;std=1'), usage(/mean value 'NaN' is not a finite number/));
  assert.throws(() => parseNormalize('mean=0.5;std=0'), usage(/std 0 must be > 0/));
  assert.throws(() => parseNormalize('mean=0.5'), usage(/needs both mean and std/));
  assert.throws(() => parseNormalize('mean=1,2;std=1'), usage(/mean has 2 values; give 1 \(every channel\) or 3/));
  assert.throws(() => parseNormalize('scale=2'), usage(/unknown part 'scale=2'; expected 'unit' or 'mean=M/));
  assert.throws(() => parseNormalize('mean=,;std=1'), usage(/is not a finite number/));
});

test('mean/std applies per channel, channels last; a channel count that does not match is refused', () => {
  const x = Float32Array.from([0, 0.5, 1, 1, 0.5, 0]);
  applyNormalize(x, [1, 2, 3], parseNormalize('mean=0,0.5,1;std=1,0.5,0.25'), 'test');
  assert.deepEqual(Array.from(x), [0, 0, 0, 1, 0, -4]);
  assert.throws(
    () => applyNormalize(new Float32Array(4), [2, 2, 1], parseNormalize('mean=0.5,0.5,0.5;std=1'), 'synthetic'),
    (error: unknown) =>
      error instanceof ModeError && error.code === 'shape' && /has 3 values per channel but the inputs have 1 channel/.test(error.message),
  );
});

test('loadDataset normalises train and test', async () => {
  const spec = 'synthetic:classes=2,size=4,n=20,test=10';
  const unit = await loadDataset(spec);
  const normal = await loadDataset(spec, { normalize: 'mean=0.5;std=0.25' });
  assert.ok(Math.abs((normal.train.x[5] ?? 0) - ((unit.train.x[5] ?? 0) - 0.5) / 0.25) < 1e-5);
  assert.ok(Math.abs((normal.test?.x[7] ?? 0) - ((unit.test?.x[7] ?? 0) - 0.5) / 0.25) < 1e-5);
  await assert.rejects(loadDataset(spec, { normalize: 'mean=1;std=-1' }), usage(/std -1 must be > 0/));
});
