import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { ModeError } from '../core/errors.js';
import { writeNpy, writeNpz } from './npy.fixture.js';
import { loadPool } from './pool.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'mode-pool-'));
after(() => rmSync(root, { recursive: true, force: true }));

const failsWith =
  (code: string, pattern: RegExp) =>
  (error: unknown): boolean =>
    error instanceof ModeError && error.code === code && pattern.test(error.message);

async function writeGrey(file: string, size: number, value: number, format: 'png' | 'jpeg' = 'png'): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const image = sharp({ create: { width: size, height: size, channels: 3, background: { r: value, g: value, b: value } } });
  await image.toColourspace('b-w')[format]().toFile(file);
}

test('images:DIR, a flat folder: unlabelled, files sorted and relative, resized to the model input', async () => {
  const dir = path.join(root, 'flat');
  await writeGrey(path.join(dir, 'b.png'), 10, 255);
  await writeGrey(path.join(dir, 'a.jpg'), 30, 0, 'jpeg');
  await writeGrey(path.join(dir, 'c.png'), 7, 51);
  const pool = await loadPool(`images:${dir}`, { inputShape: [8, 8, 1] });
  assert.equal(pool.count, 3);
  assert.deepEqual(pool.inputShape, [8, 8, 1]);
  assert.deepEqual(pool.files, ['a.jpg', 'b.png', 'c.png']);
  assert.equal(pool.y, null);
  assert.equal(pool.classNames, null);
  assert.equal(pool.x.length, 3 * 64);
  assert.ok(Math.abs((pool.x[64] ?? 0) - 1) < 1e-6 && Math.abs((pool.x[128] ?? 0) - 0.2) < 1e-6);
});

test('images:DIR with class folders: labelled, with files; normalisation applied', async () => {
  const dir = path.join(root, 'classes');
  await writeGrey(path.join(dir, 'dog', 'x.png'), 4, 255);
  await writeGrey(path.join(dir, 'cat', 'y.png'), 4, 0);
  await writeGrey(path.join(dir, 'cat', 'z.png'), 4, 0);
  const pool = await loadPool(`images:${dir}`, { normalize: 'mean=0.5;std=0.5' });
  assert.deepEqual(pool.classNames, ['cat', 'dog']);
  assert.deepEqual(Array.from(pool.y ?? []), [0, 0, 1]);
  assert.deepEqual(pool.files, ['cat/y.png', 'cat/z.png', 'dog/x.png']);
  assert.deepEqual(pool.inputShape, [4, 4, 1]);
  assert.equal(pool.x[0], -1);
  assert.equal(pool.x[32], 1);
});

test('npz and npy pools with and without labels', async () => {
  const x = new Uint8Array(3 * 2 * 2).fill(255);
  const withY = path.join(root, 'with-y.npz');
  writeNpz(withY, { x: [x, [3, 2, 2]], y: [Int32Array.from([2, 0, 1]), [3]] });
  const labelled = await loadPool(`npz:${withY}`, { inputShape: [2, 2, 1] });
  assert.deepEqual(Array.from(labelled.y ?? []), [2, 0, 1]);
  assert.deepEqual(labelled.classNames, ['0', '1', '2']);
  assert.equal(labelled.files, null);
  assert.equal(labelled.x[0], 1);
  const noY = path.join(root, 'no-y.npz');
  writeNpz(noY, { x_train: [x, [3, 2, 2]] }, false);
  const unlabelled = await loadPool(`npz:${noY}`);
  assert.equal(unlabelled.count, 3);
  assert.equal(unlabelled.y, null);
  assert.equal(unlabelled.classNames, null);
  const xFile = path.join(root, 'x.npy');
  writeNpy(xFile, x, [3, 2, 2]);
  assert.equal((await loadPool(`npy:${xFile}`)).y, null);
  const yFile = path.join(root, 'y.npy');
  writeNpy(yFile, Uint8Array.from([1, 1, 0]), [3]);
  assert.deepEqual(Array.from((await loadPool(`npy:${xFile},${yFile}`)).y ?? []), [1, 1, 0]);
  await assert.rejects(
    loadPool(`npy:${xFile}`, { inputShape: [28, 28, 1] }),
    failsWith('shape', /pool inputs have shape \[2, 2, 1\] but the model expects \[28, 28, 1\]/),
  );
});

test('empty pools and bad pool specs are one clear line', async () => {
  const empty = path.join(root, 'empty');
  mkdirSync(empty);
  await assert.rejects(loadPool(`images:${empty}`), failsWith('data', /the pool is empty: '.*empty' holds no images/));
  const zero = path.join(root, 'zero.npy');
  writeNpy(zero, new Uint8Array(0), [0, 28, 28]);
  await assert.rejects(loadPool(`npy:${zero}`), failsWith('data', /the pool is empty: .*zero\.npy holds no images/));
  await assert.rejects(loadPool('nope:x'), failsWith('usage', /unknown pool 'nope:x': must be one of \[images:DIR, npz:FILE/));
  await assert.rejects(loadPool('images:'), failsWith('usage', /pool 'images:': images needs a path/));
  const both = path.join(root, 'both');
  await writeGrey(path.join(both, 'a.png'), 2, 0);
  await writeGrey(path.join(both, 'cls', 'b.png'), 2, 0);
  await assert.rejects(loadPool(`images:${both}`), failsWith('data', /holds both files \(a\.png\) and folders \(cls\)/));
});
