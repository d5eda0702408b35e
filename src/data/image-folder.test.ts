import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { PNG } from 'pngjs';
import { ModeError } from '../core/errors.js';
import { loadDataset } from './datasets.js';
import { loadImageFolder } from './image-folder.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'mode-images-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Writes a width x height PNG whose pixel p has RGB = rgb(p); colorType 0 = grey, 2 = RGB. */
function writePng(file: string, width: number, height: number, rgb: (p: number) => [number, number, number], colorType: 0 | 2 = 0): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const png = new PNG({ width, height });
  for (let p = 0; p < width * height; p++) {
    const [r, g, b] = rgb(p);
    png.data[p * 4] = r;
    png.data[p * 4 + 1] = g;
    png.data[p * 4 + 2] = b;
    png.data[p * 4 + 3] = 255;
  }
  writeFileSync(file, PNG.sync.write(png, { colorType }));
}

const grey = (v: number) => (): [number, number, number] => [v, v, v];
const dataError =
  (pattern: RegExp) =>
  (error: unknown): boolean =>
    error instanceof ModeError && error.code === 'data' && pattern.test(error.message);

test('images:DIR with train and test folders: grey PNGs, sorted class names, 1 channel', async () => {
  const dir = path.join(root, 'split');
  writePng(path.join(dir, 'train', 'cat', 'a.png'), 3, 2, grey(255));
  writePng(path.join(dir, 'train', 'cat', 'b.png'), 3, 2, grey(0));
  writePng(path.join(dir, 'train', 'ant', 'a.png'), 3, 2, (p) => [p * 51, p * 51, p * 51]);
  writePng(path.join(dir, 'train', 'bee', 'a.png'), 3, 2, grey(51));
  writePng(path.join(dir, 'test', 'bee', 'a.png'), 3, 2, grey(102));
  writeFileSync(path.join(dir, 'train', 'cat', 'notes.txt'), 'ignored');
  const dataset = await loadDataset(`images:${dir}`);
  assert.equal(dataset.name, 'images');
  assert.deepEqual(dataset.classNames, ['ant', 'bee', 'cat']);
  assert.equal(dataset.numClasses, 3);
  assert.deepEqual(dataset.inputShape, [2, 3, 1]);
  assert.equal(dataset.train.count, 4);
  assert.deepEqual(Array.from(dataset.train.y), [0, 1, 2, 2]);
  // ant/a.png: pixel p = 51p / 255 = p / 5.
  assert.deepEqual(
    Array.from(dataset.train.x.subarray(0, 6), (v) => Math.round(v * 5)),
    [0, 1, 2, 3, 4, 5],
  );
  assert.equal(dataset.test?.count, 1);
  assert.deepEqual(Array.from(dataset.test?.y ?? []), [1]);
  assert.ok(Math.abs((dataset.test?.x[0] ?? 0) - 0.4) < 1e-6);
});

test('images:DIR without a split, with a colour image: 3 channels, no test set', () => {
  const dir = path.join(root, 'flat');
  writePng(path.join(dir, 'red', 'a.png'), 2, 2, () => [255, 0, 0], 2);
  writePng(path.join(dir, 'grey', 'a.png'), 2, 2, grey(128));
  const data = loadImageFolder(dir);
  assert.deepEqual(data.classNames, ['grey', 'red']);
  assert.deepEqual(data.train.inputShape, [2, 2, 3]);
  assert.equal(data.test, null);
  assert.deepEqual(Array.from(data.train.x.subarray(12, 15)), [1, 0, 0]);
});

test('images of different sizes are an error naming the file', () => {
  const dir = path.join(root, 'sizes');
  writePng(path.join(dir, 'a', 'x.png'), 4, 4, grey(0));
  writePng(path.join(dir, 'b', 'y.png'), 5, 4, grey(0));
  assert.throws(
    () => loadImageFolder(dir),
    dataError(/b[/\\]y\.png is 5x4 but .*a[/\\]x\.png is 4x4; all images must have the same size: resize them first/),
  );
});

test('bad image folders are clear errors', () => {
  assert.throws(() => loadImageFolder(path.join(root, 'nowhere')), dataError(/folder '.*nowhere' does not exist/));
  const one = path.join(root, 'one-class');
  writePng(path.join(one, 'a', 'x.png'), 2, 2, grey(0));
  assert.throws(() => loadImageFolder(one), dataError(/found 1 class folder in .* \(a\); expected at least 2/));
  const empty = path.join(root, 'empty-class');
  writePng(path.join(empty, 'a', 'x.png'), 2, 2, grey(0));
  mkdirSync(path.join(empty, 'b'));
  assert.throws(() => loadImageFolder(empty), dataError(/class folder '.*b' has no \.png files/));
  const broken = path.join(root, 'broken');
  writePng(path.join(broken, 'a', 'x.png'), 2, 2, grey(0));
  mkdirSync(path.join(broken, 'b'));
  writeFileSync(path.join(broken, 'b', 'y.png'), 'not a png');
  assert.throws(() => loadImageFolder(broken), dataError(/cannot decode .*y\.png as PNG/));
  const stray = path.join(root, 'stray-test');
  writePng(path.join(stray, 'train', 'a', 'x.png'), 2, 2, grey(0));
  writePng(path.join(stray, 'train', 'b', 'x.png'), 2, 2, grey(0));
  writePng(path.join(stray, 'test', 'c', 'x.png'), 2, 2, grey(0));
  assert.throws(
    () => loadImageFolder(stray),
    dataError(/test class folder 'c' .* has no training folder; expected test classes among \[a, b\]/),
  );
});
