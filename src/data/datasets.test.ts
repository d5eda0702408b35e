import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ModeError } from '../core/errors.js';
import { FASHION_MNIST_DIR, loadDataset, parseDatasetSpec } from './datasets.js';
import { writeIdx } from './idx.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'mode-datasets-'));
after(() => rmSync(root, { recursive: true, force: true }));

const usage =
  (pattern: RegExp) =>
  (error: unknown): boolean =>
    error instanceof ModeError && error.code === 'usage' && pattern.test(error.message);
const data =
  (pattern: RegExp) =>
  (error: unknown): boolean =>
    error instanceof ModeError && error.code === 'data' && pattern.test(error.message);

test('unknown and malformed dataset specs', async () => {
  await assert.rejects(
    loadDataset('cifar'),
    usage(/^unknown dataset 'cifar': must be one of \[mnist, fashion-mnist, idx:DIR, images:DIR, npz:FILE, npy:X.npy,Y.npy, synthetic\]$/),
  );
  assert.throws(() => parseDatasetSpec('idx'), usage(/idx needs a folder; use --dataset idx:DIR/));
  assert.throws(() => parseDatasetSpec('mnist:x'), usage(/mnist takes no argument/));
  assert.deepEqual(parseDatasetSpec('idx:C:/data'), { name: 'idx', argument: 'C:/data' });
  assert.deepEqual(parseDatasetSpec('synthetic'), { name: 'synthetic', argument: '' });
});

test('synthetic through the registry uses the seed option', async () => {
  const a = await loadDataset('synthetic:classes=3,size=8,n=90', { seed: 1 });
  const b = await loadDataset('synthetic:classes=3,size=8,n=90', { seed: 1 });
  const c = await loadDataset('synthetic:classes=3,size=8,n=90', { seed: 2 });
  assert.equal(a.name, 'synthetic');
  assert.equal(a.spec, 'synthetic:classes=3,size=8,n=90');
  assert.deepEqual(a.inputShape, [8, 8, 1]);
  assert.equal(a.numClasses, 3);
  assert.deepEqual(a.train.x, b.train.x);
  assert.notDeepEqual(a.train.x, c.train.x);
});

test('idx:DIR with raw and gzipped files, with and without test files', async () => {
  const dir = path.join(root, 'idx');
  mkdirSync(dir);
  writeIdx(path.join(dir, 'train-images-idx3-ubyte.gz'), [6, 2, 2], new Uint8Array(24).fill(51));
  writeIdx(path.join(dir, 'train-labels-idx1-ubyte'), [6], Uint8Array.from([0, 1, 2, 0, 1, 2]));
  const trainOnly = await loadDataset(`idx:${dir}`);
  assert.equal(trainOnly.test, null);
  assert.equal(trainOnly.numClasses, 3);
  assert.deepEqual(trainOnly.classNames, ['0', '1', '2']);
  assert.ok(Math.abs((trainOnly.train.x[0] ?? 0) - 0.2) < 1e-6);

  writeIdx(path.join(dir, 't10k-images-idx3-ubyte'), [2, 2, 2], new Uint8Array(8));
  await assert.rejects(loadDataset(`idx:${dir}`), data(/has t10k-images-idx3-ubyte but no t10k-labels-idx1-ubyte/));
  writeIdx(path.join(dir, 't10k-labels-idx1-ubyte.gz'), [2], Uint8Array.from([3, 0]));
  const both = await loadDataset(`idx:${dir}`);
  assert.equal(both.numClasses, 4, 'class count covers the test labels too');
  assert.equal(both.test?.count, 2);

  writeIdx(path.join(dir, 't10k-images-idx3-ubyte'), [2, 3, 3], new Uint8Array(18));
  await assert.rejects(loadDataset(`idx:${dir}`), data(/test images are 3x3x1 but the training images .* are 2x2x1/));
  await assert.rejects(loadDataset(`idx:${path.join(root, 'none')}`), data(/folder '.*none' does not exist/));
  await assert.rejects(loadDataset(`idx:${root}`), data(/has no train-images-idx3-ubyte \(or train-images-idx3-ubyte\.gz\)/));
});

test('mnist: 60000 train / 10000 test, 28x28x1, labels 0-9', async () => {
  const mnist = await loadDataset('mnist');
  assert.equal(mnist.name, 'mnist');
  assert.equal(mnist.train.count, 60000);
  assert.equal(mnist.test?.count, 10000);
  assert.deepEqual(mnist.inputShape, [28, 28, 1]);
  assert.equal(mnist.numClasses, 10);
  assert.deepEqual(mnist.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.equal(mnist.train.x.length, 60000 * 784);
  assert.equal(Math.min(...mnist.train.y), 0);
  assert.equal(Math.max(...mnist.train.y), 9);
  // The first MNIST training label is 5 (a well-known fact of the file).
  assert.equal(mnist.train.y[0], 5);
  let max = 0;
  for (const v of mnist.test?.x ?? []) if (v > max) max = v;
  assert.equal(max, 1);
});

test(
  'fashion-mnist: 60000 train / 10000 test, 28x28x1, 10 named classes',
  { skip: !existsSync(FASHION_MNIST_DIR) && `${FASHION_MNIST_DIR} is not installed` },
  async () => {
    const fashion = await loadDataset('fashion-mnist');
    assert.equal(fashion.train.count, 60000);
    assert.equal(fashion.test?.count, 10000);
    assert.deepEqual(fashion.inputShape, [28, 28, 1]);
    assert.equal(fashion.classNames[9], 'Ankle boot');
    assert.equal(Math.max(...(fashion.test?.y ?? [])), 9);
  },
);

test(
  'fashion-mnist missing: the error says how to install it',
  { skip: existsSync(FASHION_MNIST_DIR) && 'fashion-mnist is installed' },
  async () => {
    await assert.rejects(
      loadDataset('fashion-mnist'),
      data(
        /^fashion-mnist is not installed: run `sudo apt-get install dataset-fashion-mnist` \(Debian\/Ubuntu\), or use --dataset idx:DIR$/,
      ),
    );
  },
);
