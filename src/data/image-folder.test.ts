import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { PNG } from 'pngjs';
import sharp from 'sharp';
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

/** Writes a solid-colour image with sharp: .png or .jpg by the name; `channels` 1 writes a grey image. */
async function writeImage(file: string, width: number, height: number, rgb: [number, number, number], channels: 1 | 3 = 3): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  let image = sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
  if (channels === 1) image = image.toColourspace('b-w');
  await (file.endsWith('.png') ? image.png() : image.jpeg({ quality: 100 })).toFile(file);
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
  writeFileSync(path.join(dir, 'train', 'cat', '.DS_Store'), 'hidden files are skipped');
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
  assert.deepEqual(dataset.files, {
    train: ['train/ant/a.png', 'train/bee/a.png', 'train/cat/a.png', 'train/cat/b.png'],
    test: ['test/bee/a.png'],
  });
});

test('images:DIR without a split, with a colour image: 3 channels, no test set', async () => {
  const dir = path.join(root, 'flat');
  writePng(path.join(dir, 'red', 'a.png'), 2, 2, () => [255, 0, 0], 2);
  writePng(path.join(dir, 'grey', 'a.png'), 2, 2, grey(128));
  const data = await loadImageFolder(dir);
  assert.deepEqual(data.classNames, ['grey', 'red']);
  assert.deepEqual(data.train.inputShape, [2, 2, 3]);
  assert.equal(data.test, null);
  assert.deepEqual(Array.from(data.train.x.subarray(12, 15)), [1, 0, 0]);
});

test('images of different sizes are an error naming the file, unless a model shape resizes them', async () => {
  const dir = path.join(root, 'sizes');
  writePng(path.join(dir, 'a', 'x.png'), 4, 4, grey(0));
  writePng(path.join(dir, 'b', 'y.png'), 5, 4, grey(0));
  await assert.rejects(
    loadImageFolder(dir),
    dataError(/b[/\\]y\.png is 5x4 but .*a[/\\]x\.png is 4x4; all images must have the same size: resize them first/),
  );
  const resized = await loadImageFolder(dir, { inputShape: [3, 2, 1] });
  assert.deepEqual(resized.train.inputShape, [3, 2, 1]);
  assert.equal(resized.train.x.length, 2 * 6);
});

test('PNG and JPEG mixed, grey and RGB, any size, resized to a model shape with fit fill', async () => {
  const dir = path.join(root, 'mixed');
  await writeImage(path.join(dir, 'train', 'red', 'big.jpg'), 40, 20, [255, 0, 0]);
  await writeImage(path.join(dir, 'train', 'red', 'small.png'), 3, 5, [250, 0, 0]);
  await writeImage(path.join(dir, 'train', 'blue', 'a.jpeg'), 8, 8, [0, 0, 255]);
  await writeImage(path.join(dir, 'test', 'blue', 'b.png'), 16, 9, [0, 0, 200]);
  const dataset = await loadDataset(`images:${dir}`, { inputShape: [4, 6, 3] });
  assert.deepEqual(dataset.inputShape, [4, 6, 3]);
  assert.deepEqual(dataset.classNames, ['blue', 'red']);
  assert.deepEqual(Array.from(dataset.train.y), [0, 1, 1]);
  assert.equal(dataset.train.x.length, 3 * 4 * 6 * 3);
  const near = (value: number | undefined, expected: number): boolean => Math.abs((value ?? -1) - expected) < 0.03;
  // Every pixel of the resized JPEG (row 1) is red; of the blue test PNG, (0, 0, 200/255).
  const row = 4 * 6 * 3;
  for (let p = 0; p < 24; p++) assert.ok(near(dataset.train.x[row + p * 3], 1) && near(dataset.train.x[row + p * 3 + 2], 0));
  assert.ok(near(dataset.test?.x[2], 200 / 255));
  assert.deepEqual(dataset.files?.train, ['train/blue/a.jpeg', 'train/red/big.jpg', 'train/red/small.png']);

  // Grey JPEGs and PNGs for a 1-channel model; without a model, the same-size grey set is 1 channel.
  const greyDir = path.join(root, 'grey-mixed');
  await writeImage(path.join(greyDir, 'a', 'x.jpg'), 10, 10, [128, 128, 128], 1);
  await writeImage(path.join(greyDir, 'b', 'y.png'), 10, 10, [64, 64, 64], 1);
  await writeImage(path.join(greyDir, 'b', 'z.png'), 10, 10, [32, 32, 32], 3);
  const greySet = await loadImageFolder(greyDir);
  assert.deepEqual(greySet.train.inputShape, [10, 10, 1]);
  assert.ok(near(greySet.train.x[100], 64 / 255));
  const model1 = await loadImageFolder(greyDir, { inputShape: [5, 5, 1] });
  assert.deepEqual(model1.train.inputShape, [5, 5, 1]);
  assert.ok(near(model1.train.x[25 * 2], 32 / 255), 'an RGB file of grey pixels fits a 1-channel model');
});

test('a grey image for a 3-channel model, or a colour one for a 1-channel model, is an error naming it', async () => {
  const dir = path.join(root, 'channels');
  await writeImage(path.join(dir, 'a', 'rgb.png'), 6, 6, [200, 10, 10]);
  await writeImage(path.join(dir, 'b', 'grey.jpg'), 6, 6, [90, 90, 90], 1);
  await assert.rejects(
    loadImageFolder(dir, { inputShape: [6, 6, 3] }),
    dataError(/grey\.jpg is a grey image \(1 channel\) but the model takes 3 channels .*; convert the image to RGB/),
  );
  await assert.rejects(
    loadImageFolder(dir, { inputShape: [6, 6, 1] }),
    dataError(/rgb\.png is a colour image \(RGB\) but the model takes 1 channel .*; convert the image to greyscale/),
  );
  // Without a model: one colour image makes the set RGB, and the grey one repeats its value.
  const data = await loadImageFolder(dir);
  assert.deepEqual(data.train.inputShape, [6, 6, 3]);
  assert.ok(Math.abs((data.train.x[36 * 3 + 1] ?? 0) - 90 / 255) < 0.03);
});

test('a non-image file in a class folder is an error naming it', async () => {
  const dir = path.join(root, 'notes');
  writePng(path.join(dir, 'a', 'x.png'), 2, 2, grey(0));
  writePng(path.join(dir, 'b', 'x.png'), 2, 2, grey(0));
  writeFileSync(path.join(dir, 'b', 'notes.txt'), 'labelled by hand');
  await assert.rejects(loadImageFolder(dir), dataError(/b[/\\]notes\.txt is not an image sharp can decode .*remove the file/));
  const jpg = path.join(root, 'corrupt');
  writePng(path.join(jpg, 'a', 'x.png'), 2, 2, grey(0));
  await writeImage(path.join(jpg, 'b', 'y.jpg'), 16, 16, [1, 2, 3]);
  const bytes = await sharp(path.join(jpg, 'b', 'y.jpg'))
    .jpeg()
    .toBuffer();
  writeFileSync(path.join(jpg, 'b', 'y.jpg'), bytes.subarray(0, 40));
  await assert.rejects(loadImageFolder(jpg), dataError(/y\.jpg is not an image sharp can decode/));
});

test('bad image folders are clear errors', async () => {
  await assert.rejects(loadImageFolder(path.join(root, 'nowhere')), dataError(/folder '.*nowhere' does not exist/));
  const one = path.join(root, 'one-class');
  writePng(path.join(one, 'a', 'x.png'), 2, 2, grey(0));
  await assert.rejects(loadImageFolder(one), dataError(/found 1 class folder in .* \(a\); expected at least 2/));
  const empty = path.join(root, 'empty-class');
  writePng(path.join(empty, 'a', 'x.png'), 2, 2, grey(0));
  mkdirSync(path.join(empty, 'b'));
  await assert.rejects(loadImageFolder(empty), dataError(/class folder '.*b' has no files/));
  const broken = path.join(root, 'broken');
  writePng(path.join(broken, 'a', 'x.png'), 2, 2, grey(0));
  mkdirSync(path.join(broken, 'b'));
  writeFileSync(path.join(broken, 'b', 'y.png'), 'not a png');
  await assert.rejects(loadImageFolder(broken), dataError(/y\.png is not an image sharp can decode/));
  const stray = path.join(root, 'stray-test');
  writePng(path.join(stray, 'train', 'a', 'x.png'), 2, 2, grey(0));
  writePng(path.join(stray, 'train', 'b', 'x.png'), 2, 2, grey(0));
  writePng(path.join(stray, 'test', 'c', 'x.png'), 2, 2, grey(0));
  await assert.rejects(
    loadImageFolder(stray),
    dataError(/test class folder 'c' .* has no training folder; expected test classes among \[a, b\]/),
  );
});
