/** The analysis end to end on synthetic data where the answer is known. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../core/rng.js';
import { applyScenarios, loadDataset, splitDataset, subset } from '../data/index.js';
import { createEngine } from '../engine/index.js';
import { analyzeModel } from './analyze.js';

const adam = { kind: 'adam', learningRate: 0.01 } as const;

async function syntheticSplits(starve: number | null) {
  const dataset = await loadDataset('synthetic:classes=4,size=8,n=2400,test=400,noise=0.9,seed=3');
  const splits = splitDataset(dataset, { trainSize: 1600, validationSize: 400, poolSize: 400, seed: 1 });
  const train =
    starve === null ? splits.train : applyScenarios(splits.train, [{ kind: 'starve', labels: [starve], fraction: 0.01 }], new Rng(2));
  return { dataset, train, validation: splits.validation };
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n;
    mb += b[i]! / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

test('a starved class is flagged as underfitting, with a target layer and maps at its shape', async () => {
  const engine = await createEngine('wasm');
  const { dataset, train, validation } = await syntheticSplits(2);
  const model = engine.buildModel(
    {
      inputShape: dataset.inputShape,
      numClasses: 4,
      layers: [{ type: 'flatten' }, { type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 12, activation: 'relu' }],
    },
    4,
  );
  await model.fit(train, { epochs: 5, batchSize: 32, optimizer: adam, seed: 1 });
  const result = await analyzeModel(engine, model, train, validation, { seed: 1, head: { epochs: 5, learningRate: 0.01 } });
  assert.deepEqual(
    result.bugReport.bugs.map((b) => [b.label, b.kind]),
    [[2, 'underfitting']],
  );
  assert.deepEqual(
    result.probes.map((p) => p.probe.name),
    ['dense_1', 'dense_2'],
  );
  assert.equal(result.targets.length, 1);
  const maps = result.maps[0]!;
  assert.equal(maps.label, 2);
  assert.deepEqual(maps.shape, result.probes[result.targets[0]!.probe]!.probe.shape);
  assert.ok(maps.counts.missed > 0, 'the starved class has missed validation inputs');
  assert.equal(
    maps.maps.hc.length,
    maps.shape.reduce((a, b) => a * b, 1),
  );
  // The training set in parts (as the repair holds it: the set, then added inputs) gives the same analysis,
  // with heads on a class-balanced sample drawn across the parts.
  const sampled = { seed: 1, head: { epochs: 5, learningRate: 0.01 }, headRowsPerLabel: 50 };
  const cut = subset(
    train,
    Array.from({ length: 1000 }, (_, i) => i),
  );
  const rest = subset(
    train,
    Array.from({ length: train.count - 1000 }, (_, i) => 1000 + i),
  );
  const whole = await analyzeModel(engine, model, train, validation, sampled);
  const inParts = await analyzeModel(engine, model, [cut, rest], validation, sampled);
  assert.deepEqual(inParts.maps, whole.maps);
  assert.deepEqual(inParts.probes, whole.probes);
  assert.deepEqual(inParts.targets, whole.targets);
  model.dispose();
});

test('at the input probe of a linear model, the weights map of a class correlates with its mean input', async () => {
  const engine = await createEngine('wasm');
  const { dataset, train, validation } = await syntheticSplits(null);
  const model = engine.buildModel({ inputShape: dataset.inputShape, numClasses: 4, layers: [{ type: 'flatten' }] }, 4);
  await model.fit(train, { epochs: 3, batchSize: 32, optimizer: adam, seed: 1 });
  // Every label is "buggy" at theta 1, so every label gets maps.
  const result = await analyzeModel(engine, model, train, validation, {
    seed: 1,
    theta: { kind: 'absolute', value: 1.01 },
    heatmap: 'weights',
    head: { epochs: 5, learningRate: 0.01 },
  });
  assert.deepEqual(
    result.probes.map((p) => p.probe.name),
    ['input'],
  );
  assert.equal(result.maps.length, 4);
  for (const maps of result.maps) {
    const size = 64;
    const mean = new Float64Array(size);
    let n = 0;
    for (let i = 0; i < train.count; i++) {
      if (train.y[i] !== maps.label) continue;
      n++;
      for (let j = 0; j < size; j++) mean[j]! += train.x[i * size + j]!;
    }
    const r = pearson(
      maps.maps.hc,
      mean.map((v) => v / n),
    );
    assert.ok(r > 0.5, `label ${maps.label}: correlation ${r.toFixed(3)}`);
  }
  model.dispose();
});
