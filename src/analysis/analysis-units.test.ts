/** Unit tests of bug detection, layer selection and heat maps on hand-made numbers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectBugs, parseTheta, resolveTheta } from './bug-detection.js';
import { labelMaps, mostConfusedWith, parseHeatmapVariant } from './heatmaps.js';
import { bhattacharyyaDistance, parseLayerSelection, selectTargetLayer, type ProbeAccuracy } from './layer-selection.js';
import { probePoints } from './feature-models.js';
import type { LayerInfo } from '../engine/index.js';

test('bug detection: underfitting below theta on both splits, worst first; then overfitting by gap', () => {
  const train = [0.99, 0.5, 0.95, 0.99, 0.7, 0.99];
  const val = [0.98, 0.4, 0.93, 0.85, 0.6, 0.989];
  const report = detectBugs(train, val);
  assert.equal(report.theta, 0.92);
  assert.deepEqual(
    report.bugs.map((b) => [b.label, b.kind]),
    [
      [1, 'underfitting'],
      [4, 'underfitting'],
      [3, 'overfitting'],
    ],
  );
  // Train below theta but validation above: not underfitting.
  assert.deepEqual(detectBugs([0.9], [0.95]).bugs, []);
  assert.deepEqual(
    detectBugs([0.99, 0.99], [0.95, 0.95], { gamma: 0.03 }).bugs.map((b) => b.kind),
    ['overfitting', 'overfitting'],
  );
});

test('relative theta is mean - k std of validation accuracy', () => {
  const val = [0.9, 0.9, 0.9, 0.5];
  const theta = resolveTheta({ kind: 'relative', k: 1 }, val);
  assert.ok(Math.abs(theta - (0.8 - 0.2)) < 1e-12, String(theta));
  assert.deepEqual(
    detectBugs([0.5, 0.9, 0.9, 0.5], val, { theta: { kind: 'relative', k: 1 } }).bugs.map((b) => b.label),
    [3],
  );
  assert.deepEqual(parseTheta('relative:1.5'), { kind: 'relative', k: 1.5 });
  assert.deepEqual(parseTheta('0.9'), { kind: 'absolute', value: 0.9 });
  assert.throws(() => parseTheta('1.5'), /--theta '1.5': must be a number in \[0, 1\]/);
  assert.throws(() => parseTheta('NaN'), /--theta 'NaN'/);
});

const probe = (trainL: number, valL: number, meanPrediction: number[] = [0.5, 0.5]): ProbeAccuracy => ({
  trainPerLabel: [trainL, 1],
  validationPerLabel: [valL, 1],
  meanPrediction: [meanPrediction, [0, 1]],
});

test('layer selection: saturation, overfitting gap, none, bhattacharyya', () => {
  const probes = [probe(0.5, 0.4), probe(0.7, 0.6), probe(0.7, 0.598), probe(0.7, 0.603)];
  assert.equal(selectTargetLayer('saturation', 0, 'underfitting', probes).probe, 1);
  assert.equal(selectTargetLayer('saturation', 0, 'underfitting', probes, { epsilon: 0 }).probe, 3);
  assert.equal(selectTargetLayer('none', 0, 'underfitting', probes).probe, 3);
  const over = [probe(0.9, 0.85), probe(0.99, 0.8), probe(0.99, 0.7)];
  assert.equal(selectTargetLayer('saturation', 0, 'overfitting', over).probe, 1);
  assert.equal(selectTargetLayer('saturation', 0, 'overfitting', over, { gamma: 0.5 }).probe, 2);
  const bh = [probe(0.5, 0.5, [0.2, 0.8]), probe(0.5, 0.5, [0.6, 0.4]), probe(0.5, 0.5, [0.61, 0.39]), probe(0.5, 0.5, [0.9, 0.1])];
  assert.equal(selectTargetLayer('bhattacharyya', 0, 'underfitting', bh).probe, 1);
  assert.equal(bhattacharyyaDistance([0.3, 0.7], [3, 7]), 0);
  assert.throws(() => parseLayerSelection('first'), /unknown layer selection 'first': must be one of \[saturation, bhattacharyya, none\]/);
});

test('probe points: after dense, conv and pooling layers, not after the output, flatten or dropout', () => {
  const layer = (index: number, type: LayerInfo['type'], outputShape: number[]): LayerInfo => ({
    index,
    name: `${type}_${index}`,
    type,
    outputShape,
    hasWeights: type === 'dense' || type === 'conv2d',
    activation: null,
  });
  const layers = [
    layer(0, 'conv2d', [6, 6, 4]),
    layer(1, 'maxPool2d', [3, 3, 4]),
    layer(2, 'flatten', [36]),
    layer(3, 'dropout', [36]),
    layer(4, 'dense', [8]),
    layer(5, 'dense', [3]),
  ];
  assert.deepEqual(
    probePoints(layers, [8, 8, 1]).map((p) => [p.name, p.size]),
    [
      ['conv2d_0', 144],
      ['maxPool2d_1', 36],
      ['dense_4', 8],
    ],
  );
  assert.deepEqual(probePoints(layers, [8, 8, 1], { includeInput: true })[0]!.name, 'input');
  assert.deepEqual(
    probePoints([layer(0, 'flatten', [64]), layer(1, 'dense', [3])], [8, 8, 1]).map((p) => p.name),
    ['input'],
  );
});

test('heat maps: importance, groups, differential maps and the most confused label, by hand', () => {
  // 2 features, 3 classes; head weights W[j][c].
  const headWeights = new Float32Array([1, 0, 2, /* feature 1 */ -1, 3, 0]);
  const features = new Float32Array([1, 2, /* x1 */ 3, 4, /* x2 */ 5, 6, /* x3 */ 7, 8, /* x4 */ 0, 2]);
  const labels = new Int32Array([0, 0, 0, 1, 1]);
  const predictions = new Int32Array([0, 0, 1, 1, 0]);
  const inputs = { features, size: 2, shape: [2], labels, predictions, numClasses: 3, headWeights };
  const m = labelMaps('importance', inputs, 0);
  // HC_0: mean of x1, x2 = [2, 3] times W[:,0] = [1, -1] -> [2, -3]; HM_0: x3 [5, 6] -> [5, -6]; HW_0: x5 [0, 2] -> [0, -2].
  assert.deepEqual(Array.from(m.maps.hc), [2, -3]);
  assert.deepEqual(Array.from(m.maps.hm), [5, -6]);
  assert.deepEqual(Array.from(m.maps.hw), [0, -2]);
  assert.deepEqual(Array.from(m.maps.dhm), [-3, 3]);
  assert.deepEqual(Array.from(m.maps.dhw), [-2, 1]);
  // Most confused with 1; HC_1 = x4 [7, 8] * W[:,1] = [0, 24]; DHC = HC_0 - HC_1.
  assert.equal(m.confusedWith, 1);
  assert.deepEqual(Array.from(m.maps.dhc), [2, -27]);
  assert.deepEqual(m.counts, { correct: 2, missed: 1, wronglyClaimed: 1 });
  assert.deepEqual(Array.from(labelMaps('activation', inputs, 0).maps.hm), [5, 6]);
  assert.deepEqual(Array.from(labelMaps('weights', inputs, 2).maps.hc), [2, 0]);
  assert.equal(mostConfusedWith(1, labels, predictions, 3), 0);
  assert.throws(() => parseHeatmapVariant('mean'), /must be one of \[importance, weights, activation, input-mean\]/);
});
