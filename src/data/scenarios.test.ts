import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LabeledSet } from '../core/data-types.js';
import { ModeError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { applyScenarios, describeScenario, keptCount, parseScenario, type Scenario } from './scenarios.js';

/** 1000 examples, label i % 10 (100 per label), pixel value i so rows are traceable. */
const TRAIN: LabeledSet = {
  x: Float32Array.from({ length: 1000 }, (_, i) => i),
  y: Int32Array.from({ length: 1000 }, (_, i) => i % 10),
  count: 1000,
  inputShape: [1, 1, 1],
  numClasses: 10,
};

const usage =
  (pattern: RegExp) =>
  (error: unknown): boolean =>
    error instanceof ModeError && error.code === 'usage' && pattern.test(error.message);

test('parse and describe', () => {
  assert.deepEqual(parseScenario('starve', '3,8:0.02'), { kind: 'starve', labels: [3, 8], fraction: 0.02 });
  assert.deepEqual(parseScenario('small', '1000'), { kind: 'small', count: 1000 });
  assert.deepEqual(parseScenario('noise', '5:0.3'), { kind: 'noise', label: 5, fraction: 0.3 });
  assert.equal(describeScenario(parseScenario('starve', '3, 8 : 0.02')), 'starve 3,8:0.02');
  assert.equal(describeScenario({ kind: 'small', count: 1000 }), 'small 1000');
  assert.equal(describeScenario({ kind: 'noise', label: 5, fraction: 0.3 }), 'noise 5:0.3');
});

test('bad scenario strings give the documented messages', () => {
  assert.throws(() => parseScenario('starve', '3,8:1.5'), usage(/^--starve '3,8:1\.5': fraction must be in \[0, 1\]/));
  assert.throws(() => parseScenario('starve', '3,8'), usage(/--starve '3,8': missing ':'; expected L\[,L\.\.\.\]:f/));
  assert.throws(() => parseScenario('starve', 'a:0.1'), usage(/--starve 'a:0\.1': label 'a' is not a non-negative integer/));
  assert.throws(() => parseScenario('starve', '3,3:0.1'), usage(/label 3 is listed twice/));
  assert.throws(() => parseScenario('noise', '5:-0.1'), usage(/--noise '5:-0\.1': fraction must be in \[0, 1\]/));
  assert.throws(() => parseScenario('noise', '5:x'), usage(/--noise '5:x': fraction 'x' is not a number/));
  assert.throws(() => parseScenario('small', '0'), usage(/--small '0': count must be a positive integer, got '0'/));
  assert.throws(() => parseScenario('small', '1.5'), usage(/count must be a positive integer/));
  assert.throws(() => parseScenario('shrink', '1'), usage(/^unknown scenario 'shrink': must be one of \[small, starve, noise\]$/));
  // Checks that need the training set.
  const apply = (s: Scenario) => () => applyScenarios(TRAIN, [s], new Rng(1));
  assert.throws(
    apply(parseScenario('starve', '3,12:0.1')),
    usage(/--starve '3,12:0\.1': label 12 is outside the dataset's labels \[0, 9\]/),
  );
  assert.throws(apply(parseScenario('noise', '10:0.1')), usage(/--noise '10:0\.1': label 10 is outside/));
  assert.throws(
    apply(parseScenario('small', '1001')),
    usage(/--small '1001': count 1001 is larger than the training split \(1000 examples\)/),
  );
});

test('starve keeps round(f * n) of the starved labels, at least 1, and all others', () => {
  const result = applyScenarios(TRAIN, [parseScenario('starve', '3,8:0.02')], new Rng(1));
  assert.equal(result.summary.after.perLabel[3], 2);
  assert.equal(result.summary.after.perLabel[8], 2);
  assert.equal(result.summary.after.perLabel[0], 100);
  assert.equal(result.count, 804);
  assert.equal(result.summary.before.count, 1000);
  assert.equal(result.summary.after.count, 804);
  assert.deepEqual(result.summary.scenarios, ['starve 3,8:0.02']);
  // Rows are the examples their source indices name.
  assert.deepEqual(Array.from(result.x), Array.from(result.sourceIndices));
  assert.deepEqual(
    Array.from(result.y),
    Array.from(result.sourceIndices, (i) => i % 10),
  );
  assert.equal(keptCount(100, 0.001), 1);
  assert.equal(keptCount(100, 0), 0);
  assert.equal(applyScenarios(TRAIN, [parseScenario('starve', '4:0.001')], new Rng(1)).summary.after.perLabel[4], 1);
});

test('small keeps N seeded examples', () => {
  const a = applyScenarios(TRAIN, [parseScenario('small', '50')], new Rng(1));
  const b = applyScenarios(TRAIN, [parseScenario('small', '50')], new Rng(1));
  const c = applyScenarios(TRAIN, [parseScenario('small', '50')], new Rng(2));
  assert.equal(a.count, 50);
  assert.equal(new Set(a.sourceIndices).size, 50);
  assert.deepEqual(a.sourceIndices, b.sourceIndices);
  assert.notDeepEqual(a.sourceIndices, c.sourceIndices);
});

test('noise relabels round(p * n) of the label, never to the same label', () => {
  const result = applyScenarios(TRAIN, [parseScenario('noise', '5:0.3')], new Rng(4));
  assert.equal(result.summary.relabelled, 30);
  assert.equal(result.relabelledRows.length, 30);
  assert.equal(result.count, 1000);
  assert.equal(result.summary.after.perLabel[5], 70);
  for (const row of result.relabelledRows) {
    assert.equal(TRAIN.y[result.sourceIndices[row] ?? 0], 5, 'only label 5 was relabelled');
    assert.notEqual(result.y[row], 5);
  }
  let changed = 0;
  result.y.forEach((label, i) => (changed += label === TRAIN.y[result.sourceIndices[i] ?? 0] ? 0 : 1));
  assert.equal(changed, 30);
  assert.deepEqual(
    TRAIN.y,
    Int32Array.from({ length: 1000 }, (_, i) => i % 10),
    'the input is untouched',
  );
});

test('scenarios compose in the order small, starve, noise', () => {
  const scenarios = [parseScenario('noise', '2:0.5'), parseScenario('starve', '3:0.5'), parseScenario('small', '500')];
  const a = applyScenarios(TRAIN, scenarios, new Rng(9));
  const b = applyScenarios(TRAIN, [...scenarios].reverse(), new Rng(9));
  assert.deepEqual(a.summary.scenarios, ['small 500', 'starve 3:0.5', 'noise 2:0.5']);
  assert.deepEqual(a.sourceIndices, b.sourceIndices);
  assert.deepEqual(a.y, b.y);
  const smallOnly = applyScenarios(TRAIN, [parseScenario('small', '500')], new Rng(9));
  const threes = smallOnly.summary.after.perLabel[3] ?? 0;
  const twos = smallOnly.summary.after.perLabel[2] ?? 0;
  assert.equal(
    a.summary.after.perLabel[3],
    keptCount(threes, 0.5) + a.y.filter((label, i) => label === 3 && a.relabelledRows.includes(i)).length,
  );
  assert.equal(a.summary.relabelled, Math.round(twos * 0.5));
  assert.equal(a.count, 500 - (threes - keptCount(threes, 0.5)));
  const none = applyScenarios(TRAIN, [], new Rng(9));
  assert.equal(none.count, 1000);
  assert.deepEqual(none.summary.before, none.summary.after);
});

test('scenarios applied in place give the set a copy gives, at the front of the given arrays', () => {
  const scenarios = [parseScenario('small', '600'), parseScenario('starve', '3,8:0.1'), parseScenario('noise', '5:0.3')];
  const copied = applyScenarios(TRAIN, scenarios, new Rng(11));
  const own: LabeledSet = { ...TRAIN, x: TRAIN.x.slice(), y: TRAIN.y.slice() };
  const inPlace = applyScenarios(own, scenarios, new Rng(11), { inPlace: true });
  assert.deepEqual(Array.from(inPlace.x), Array.from(copied.x));
  assert.deepEqual(Array.from(inPlace.y), Array.from(copied.y));
  assert.deepEqual(inPlace.summary, copied.summary);
  assert.equal(inPlace.x.buffer, own.x.buffer);
  assert.equal(inPlace.count, copied.count);
});
