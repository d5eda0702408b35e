import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ModeError } from '../core/errors.js';
import { loadDataset } from './datasets.js';
import { npyBytes, writeNpy, writeNpz } from './npy.fixture.js';
import { imagesFromArray, parseNpy } from './numpy.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'mode-numpy-'));
after(() => rmSync(root, { recursive: true, force: true }));

const data =
  (pattern: RegExp) =>
  (error: unknown): boolean =>
    error instanceof ModeError && error.code === 'data' && pattern.test(error.message);

/** 4 images 2x5 with 3 channels, channels first: value = 100c + 10h + w + n (uint8). */
const nchw = Uint8Array.from({ length: 4 * 3 * 2 * 5 }, (_, i) => {
  const n = Math.floor(i / 30);
  const c = Math.floor(i / 10) % 3;
  const h = Math.floor(i / 5) % 2;
  const w = i % 5;
  return 100 * c + 10 * h + w + n;
});

test('npy:X.npy,Y.npy with NCHW uint8 images: transposed to channels last and scaled by 1/255', async () => {
  writeNpy(path.join(root, 'x.npy'), nchw, [4, 3, 2, 5]);
  writeNpy(path.join(root, 'y.npy'), BigInt64Array.from([0n, 2n, 1n, 2n]), [4]);
  const dataset = await loadDataset(`npy:${path.join(root, 'x.npy')},${path.join(root, 'y.npy')}`);
  assert.equal(dataset.name, 'npy');
  assert.deepEqual(dataset.inputShape, [2, 5, 3]);
  assert.equal(dataset.numClasses, 3);
  assert.deepEqual(dataset.classNames, ['0', '1', '2']);
  assert.equal(dataset.test, null);
  assert.deepEqual(Array.from(dataset.train.y), [0, 2, 1, 2]);
  // image 1, h 1, w 2, c 2 (channels last: ((1 * 2 + 1) * 5 + 2) * 3 + 2).
  assert.ok(Math.abs((dataset.train.x[53] ?? 0) - (200 + 10 + 2 + 1) / 255) < 1e-6);
  assert.equal(dataset.files, null);
});

test('npz with x_train/y_train/x_test/y_test (deflated) and with x/y (stored); float32 taken as given', async () => {
  const nhw = Float32Array.from({ length: 6 * 4 * 4 }, (_, i) => i / 96);
  const file = path.join(root, 'split.npz');
  writeNpz(file, {
    x_train: [nhw, [6, 4, 4]],
    y_train: [Int32Array.from([0, 1, 0, 1, 0, 1]), [6]],
    x_test: [nhw.slice(0, 32), [2, 4, 4]],
    y_test: [Int32Array.from([1, 0]), [2]],
  });
  const split = await loadDataset(`npz:${file}`);
  assert.deepEqual(split.inputShape, [4, 4, 1]);
  assert.equal(split.train.count, 6);
  assert.equal(split.test?.count, 2);
  assert.equal(split.train.x[95], Math.fround(95 / 96));
  const flat = path.join(root, 'flat.npz');
  writeNpz(flat, { x: [nchw, [4, 3, 2, 5]], y: [Uint8Array.from([1, 1, 0, 0]), [4, 1]] }, false);
  const plain = await loadDataset(`npz:${flat}`);
  assert.deepEqual(plain.inputShape, [2, 5, 3]);
  assert.deepEqual(Array.from(plain.train.y), [1, 1, 0, 0]);
  assert.equal(plain.test, null);
});

test('channels last wins when both axis 1 and the last axis are 1 or 3', () => {
  const array = parseNpy(npyBytes(new Uint8Array(2 * 3 * 5 * 3), [2, 3, 5, 3]), 'a.npy');
  assert.deepEqual(imagesFromArray(array, 'a.npy').inputShape, [3, 5, 3]);
});

test('bad NumPy input: truncated, wrong dtype, label count, missing arrays, not a zip', async () => {
  const x = path.join(root, 'bad-x.npy');
  writeNpy(x, new Uint8Array(2 * 4 * 4), [2, 4, 4]);
  const y3 = path.join(root, 'y3.npy');
  writeNpy(y3, Int32Array.from([0, 1, 1]), [3]);
  await assert.rejects(
    loadDataset(`npy:${x},${y3}`),
    data(/y3\.npy: 3 labels but .*bad-x\.npy holds 2 images; both must have the same length N/),
  );
  const yFloat = path.join(root, 'yf.npy');
  writeNpy(yFloat, Float32Array.from([0, 1]), [2]);
  await assert.rejects(loadDataset(`npy:${x},${yFloat}`), data(/yf\.npy: labels of dtype f4; expected integers/));
  const xInt = path.join(root, 'xi.npy');
  writeNpy(xInt, new Int32Array(2 * 4 * 4), [2, 4, 4]);
  await assert.rejects(loadDataset(`npy:${xInt},${y3}`), data(/xi\.npy: images of dtype i4; expected uint8 .*, float32 or float64/));
  const cut = path.join(root, 'cut.npy');
  writeFileSync(cut, readFileSync(x).subarray(0, 140));
  await assert.rejects(
    loadDataset(`npy:${cut},${y3}`),
    data(/cut\.npy: truncated \.npy file: its header says u1 \[2, 4, 4\] \(160 bytes\) but it has 140/),
  );
  const odd = path.join(root, 'odd.npy');
  writeNpy(odd, new Uint8Array(2 * 4 * 5 * 7), [2, 4, 5, 7]);
  await assert.rejects(
    loadDataset(`npy:${odd},${y3}`),
    data(/images of shape \[2, 4, 5, 7\]; expected \[N, H, W\], \[N, H, W, C\] or \[N, C, H, W\]/),
  );
  const noY = path.join(root, 'no-y.npz');
  writeNpz(noY, { images: [new Uint8Array(4), [1, 2, 2]] });
  await assert.rejects(
    loadDataset(`npz:${noY}`),
    data(/holds arrays \[images\]; a labelled dataset needs x and y, or x_train and y_train/),
  );
  await assert.rejects(loadDataset(`npz:${x}`), data(/not a readable \.npz \(zip\) archive/));
  writeFileSync(path.join(root, 'text.npy'), 'hello');
  await assert.rejects(loadDataset(`npy:${path.join(root, 'text.npy')},${y3}`), data(/not a \.npy file/));
});
