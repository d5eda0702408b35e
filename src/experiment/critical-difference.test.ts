import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../core/rng.js';
import { renderCdDiagram } from '../report/png/index.js';
import { criticalDifference } from './critical-difference.js';

/** Blocks where treatment j scores j * step plus noise: a clear order when step is large, none when it is 0. */
function table(blocks: number, treatments: number, step: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: blocks }, () => Array.from({ length: treatments }, (_, j) => j * step + 0.01 * rng.next()));
}

test('criticalDifference ranks the best first, and separates clearly different treatments', () => {
  const cd = criticalDifference(table(12, 4, 1, 1), ['a', 'b', 'c', 'd']);
  assert.deepEqual(cd.treatments, ['d', 'c', 'b', 'a']);
  assert.deepEqual(cd.meanRanks, [1, 2, 3, 4]);
  assert.ok(cd.friedman.pValue < 1e-4);
  assert.equal(cd.pairs.length, 6);
  assert.ok(cd.pairs.every((p) => p.significant && p.pHolm >= p.p));
  assert.deepEqual(cd.cliques, []);
});

test('criticalDifference joins treatments that do not differ in one bar', () => {
  const cd = criticalDifference(table(10, 5, 0, 2), ['a', 'b', 'c', 'd', 'e']);
  assert.ok(cd.friedman.pValue > 0.05);
  assert.ok(cd.pairs.every((p) => !p.significant));
  assert.deepEqual(cd.cliques, [[0, 4]]);
  // Mean ranks sum to k (k + 1) / 2 in every block.
  assert.ok(Math.abs(cd.meanRanks.reduce((a, b) => a + b, 0) - 15) < 1e-9);
});

test('criticalDifference: two groups, each tied inside and apart from the other', () => {
  const rng = new Rng(3);
  const rows = Array.from({ length: 12 }, () => [1 + 0.01 * rng.next(), 1 + 0.01 * rng.next(), 0.01 * rng.next(), 0.01 * rng.next()]);
  const cd = criticalDifference(rows, ['hi1', 'hi2', 'lo1', 'lo2']);
  assert.deepEqual(new Set(cd.treatments.slice(0, 2)), new Set(['hi1', 'hi2']));
  assert.deepEqual(cd.cliques, [
    [0, 1],
    [2, 3],
  ]);
  const png = renderCdDiagram(cd, 'two groups');
  assert.deepEqual([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
  assert.ok(png.equals(renderCdDiagram(cd, 'two groups')), 'deterministic');
});
