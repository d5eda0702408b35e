/**
 * Class subsets: the first k classes of a dataset or a list of labels, written once as an IDX
 * folder that later stages read as `idx:DIR`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadDataset } from '../data/index.js';
import { describeClassSubset, materializeClassSubset, SUBSET_FILE } from './class-subset.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mode-subset-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('a class subset keeps labels 0..k-1 of train and test, is written once and reused', async () => {
  const source = 'synthetic:classes=4,size=8,n=400,test=100';
  const full = await loadDataset(source);
  const dir = path.join(tmp, 'two');
  const spec = await materializeClassSubset(source, 2, dir);
  assert.equal(spec, `idx:${path.resolve(dir)}`);
  const subset = await loadDataset(spec);
  assert.equal(subset.numClasses, 2);
  assert.deepEqual(subset.classNames, ['0', '1']);
  assert.equal(subset.train.count, full.train.y.filter((y) => y < 2).length);
  assert.equal(subset.test!.count, full.test!.y.filter((y) => y < 2).length);
  // pixels are stored as bytes: within half a step of 1/255 of the source
  const first = full.train.y.findIndex((y) => y < 2);
  for (let j = 0; j < 64; j++)
    assert.ok(Math.abs(subset.train.x[j]! - Math.min(1, Math.max(0, full.train.x[first * 64 + j]!))) <= 0.5 / 255 + 1e-6);
  const written = statSync(path.join(dir, SUBSET_FILE)).mtimeMs;
  assert.equal(await materializeClassSubset(source, 2, dir), spec);
  assert.equal(statSync(path.join(dir, SUBSET_FILE)).mtimeMs, written, 'reused, not rewritten');
  await assert.rejects(materializeClassSubset(source, 5, path.join(tmp, 'five')), /class subset 5 of synthetic.*has only 4 classes/);
});

test('a list subset keeps its labels, relabelled by their place in the list, with their names', async () => {
  const source = 'synthetic:classes=4,size=8,n=400,test=100';
  const full = await loadDataset(source);
  const spec = await materializeClassSubset(source, [3, 1], path.join(tmp, 'three-one'));
  const subset = await loadDataset(spec);
  assert.deepEqual(subset.classNames, [full.classNames[3], full.classNames[1]]);
  const expected = [...full.train.y].filter((y) => y === 3 || y === 1).map((y) => (y === 3 ? 0 : 1));
  assert.deepEqual([...subset.train.y], expected);
  assert.equal(subset.test!.count, full.test!.y.filter((y) => y === 3 || y === 1).length);
  // the pixels of the first kept input are those of the first 3 or 1 of the source
  const first = full.train.y.findIndex((y) => y === 3 || y === 1);
  assert.ok(Math.abs(subset.train.x[10]! - Math.min(1, Math.max(0, full.train.x[first * 64 + 10]!))) <= 0.5 / 255 + 1e-6);
  assert.equal(describeClassSubset([3, 1]), '3/1');
  assert.equal(describeClassSubset(4), '4');
  await assert.rejects(
    materializeClassSubset(source, [0, 7], path.join(tmp, 'bad')),
    /class subset 0\/7 of synthetic.*label 7 is not a class of the dataset \(labels 0\.\.3\)/,
  );
});
