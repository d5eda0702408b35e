/** Feature models: probes sharing one forward pass give the same heads as one probe at a time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadDataset, splitDataset } from '../data/index.js';
import { createEngine } from '../engine/index.js';
import { Scratch } from '../core/scratch.js';
import { probeGroups, probePoints, trainFeatureModel, trainFeatureModels, type Probe } from './feature-models.js';

const probe = (name: string, size: number): Probe => ({ layerIndex: 0, name, type: 'dense', shape: [size], size });

test('probe groups: consecutive probes up to the budget, a probe larger than the budget alone', () => {
  const probes = [probe('a', 10), probe('b', 30), probe('c', 50), probe('d', 200), probe('e', 5)];
  assert.deepEqual(
    probeGroups(probes, 2, 100).map((g) => g.map((p) => p.name)),
    [['a', 'b'], ['c'], ['d'], ['e']],
  );
  assert.deepEqual(
    probeGroups(probes, 1, 1000).map((g) => g.length),
    [5],
  );
  assert.deepEqual(probeGroups([], 10), []);
});

test('feature models from one shared pass equal those trained one probe at a time', async () => {
  const engine = await createEngine('wasm');
  const dataset = await loadDataset('synthetic:classes=3,size=8,n=900,test=100,noise=0.8,seed=5');
  const { train, validation } = splitDataset(dataset, { trainSize: 500, validationSize: 200, poolSize: 200, seed: 1 });
  const model = engine.buildModel(
    {
      inputShape: dataset.inputShape,
      numClasses: 3,
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
        { type: 'maxPool2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 8, activation: 'relu' },
      ],
    },
    2,
  );
  await model.fit(train, { epochs: 2, batchSize: 32, optimizer: { kind: 'adam', learningRate: 0.01 }, seed: 1 });
  const probes = probePoints(model.layers, model.inputShape);
  assert.equal(probes.length, 3);
  const shared = await trainFeatureModels(engine, model, probes, train, validation, { seed: 4 });
  for (const [i, p] of probes.entries()) {
    const alone = await trainFeatureModel(engine, model, p, train, validation, { seed: 4 });
    assert.deepEqual(shared[i]!.head.weights, alone.head.weights, `${p.name}: same head`);
    assert.deepEqual(shared[i]!.validation.perLabel, alone.validation.perLabel);
  }
  // In a scratch kept from one call to the next (as the repair loop keeps one): the same feature models, twice.
  const scratch = new Scratch();
  for (const round of [1, 2]) {
    const inScratch = await trainFeatureModels(engine, model, probes, train, validation, { seed: 4, scratch });
    for (const [i, p] of probes.entries()) {
      assert.deepEqual(inScratch[i]!.head.weights, shared[i]!.head.weights, `${p.name}, round ${round}: same head`);
      assert.deepEqual(inScratch[i]!.validationProbabilities, shared[i]!.validationProbabilities);
    }
  }
  model.dispose();
});
