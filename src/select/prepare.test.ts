/** prepareSelection on real small models (the wasm engine): BALD's dropout passes, DSA's layer, an unlabeled pool, the repair loop. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LabeledSet } from '../core/data-types.js';
import { Rng } from '../core/rng.js';
import { loadDataset, splitDataset, subsetUnchecked } from '../data/index.js';
import { createEngine, type ArchitectureSpec, type Engine, type Model } from '../engine/index.js';
import { argmaxRows } from '../model/metrics.js';
import { RepairConfigSchema } from '../experiment/repair-config.js';
import { runRepair } from '../experiment/repair.js';
import { prepareSelection } from './prepare.js';
import { baldScores } from './baselines.js';
import { selectBatch, strategyNeeds, strategySpec, formatStrategy } from './strategies.js';

interface Setup {
  engine: Engine;
  train: LabeledSet;
  validation: LabeledSet;
  pool: LabeledSet;
  test: LabeledSet;
  plain: Model;
  dropout: Model;
  architecture: ArchitectureSpec;
}

let cached: Setup | undefined;

async function setup(): Promise<Setup> {
  if (cached !== undefined) return cached;
  const engine = await createEngine('wasm');
  const dataset = await loadDataset('synthetic:classes=3,size=8,n=1200,test=300,noise=0.6,seed=3');
  const splits = splitDataset(dataset, { trainSize: 450, validationSize: 150, poolSize: 600, seed: 1 });
  const layers = (dropout: boolean): ArchitectureSpec => ({
    inputShape: dataset.inputShape,
    numClasses: 3,
    layers: [
      { type: 'flatten' },
      { type: 'dense', units: 16, activation: 'relu' },
      ...(dropout ? [{ type: 'dropout' as const, rate: 0.5 }] : []),
      { type: 'dense', units: 8, activation: 'relu' },
    ],
  });
  const fit = { epochs: 3, batchSize: 32, optimizer: { kind: 'adam', learningRate: 0.01 }, seed: 1 } as const;
  const plain = engine.buildModel(layers(false), 2);
  await plain.fit(splits.train, fit);
  const dropout = engine.buildModel(layers(true), 2);
  await dropout.fit(splits.train, fit);
  cached = {
    engine,
    train: splits.train,
    validation: splits.validation,
    pool: splits.pool,
    test: splits.test,
    plain,
    dropout,
    architecture: layers(true),
  };
  return cached;
}

const poolOf = (set: LabeledSet): { x: Float32Array; count: number; labels: Int32Array } => ({ x: set.x, count: set.count, labels: set.y });

test('bald is refused for a model without dropout layers, in one usage line', async () => {
  const { plain, pool } = await setup();
  await assert.rejects(
    prepareSelection(plain, poolOf(pool), strategyNeeds(strategySpec('bald')), { seed: 1 }, 'bald'),
    (e: Error & { code?: string }) =>
      e.code === 'usage' &&
      e.message === 'bald needs a model with dropout layers; this model has none: use entropy, or train with a dropout layer',
  );
  // Were they computed, the passes of such a model would all agree: BALD 0 everywhere.
  const passes = [await plain.predictWithDropout(pool.x, pool.count, 1), await plain.predictWithDropout(pool.x, pool.count, 2)];
  const indices = Array.from({ length: pool.count }, (_, i) => i);
  assert.ok(baldScores(passes, 3, indices).every((s) => s < 1e-6));
});

test('bald with dropout: positive scores, the same passes and picks for a seed, other passes for another seed', async () => {
  const { dropout, pool } = await setup();
  const spec = strategySpec('bald', { passes: '8' });
  const needs = strategyNeeds(spec);
  assert.deepEqual(needs, { stochastic: { passes: 8 } });
  const a = await prepareSelection(dropout, poolOf(pool), needs, { seed: 5 });
  const b = await prepareSelection(dropout, poolOf(pool), needs, { seed: 5 });
  const c = await prepareSelection(dropout, poolOf(pool), needs, { seed: 6 });
  assert.equal(a.stochastic!.length, 8);
  assert.deepEqual(a.stochastic, b.stochastic);
  assert.notDeepEqual(a.stochastic, c.stochastic);
  const scores = baldScores(
    a.stochastic!,
    3,
    Array.from({ length: pool.count }, (_, i) => i),
  );
  assert.ok(scores.filter((s) => s > 1e-3).length > pool.count / 10, 'dropout makes the passes disagree on many inputs');
  const s = await selectBatch(spec, a, { batch: 20, alpha: 0, rng: new Rng(1) });
  assert.deepEqual(s, await selectBatch(spec, b, { batch: 20, alpha: 0, rng: new Rng(1) }));
  assert.ok(Array.from(s.scores).every((v) => v > 0));
});

test('dsa on a model: inputs far from the training activations rank above training inputs; an unknown layer lists the valid ones', async () => {
  const { plain, train } = await setup();
  // 20 training inputs (in the reference: DSA 0) and 20 far from anything the model saw (the same inputs scaled by 6).
  const near = subsetUnchecked(
    train,
    Array.from({ length: 20 }, (_, i) => i),
  );
  const x = new Float32Array(near.x.length * 2);
  x.set(near.x);
  x.set(
    near.x.map((v) => 6 * v),
    near.x.length,
  );
  const probabilities = await plain.predict(x, 40);
  const pool = { x, count: 40, labels: argmaxRows(probabilities, 3) };
  const spec = strategySpec('dsa');
  const input = await prepareSelection(plain, pool, strategyNeeds(spec), { seed: 1, train, probabilities });
  assert.equal(input.features!.layer, plain.layers[plain.layers.length - 2]!.name, 'the last hidden probe by default');
  assert.equal(input.trainFeatures!.count, train.count, 'fewer than 500 per label: every training input is in the reference');
  const s = await selectBatch(spec, input, { batch: 40, alpha: 0, rng: new Rng(1) });
  const score = new Map(Array.from(s.indices, (i, k) => [i, s.scores[k]!]));
  for (let i = 0; i < 20; i++) {
    assert.ok(score.get(i)! < 1e-3, `a training input scores 0 (${score.get(i)})`);
    assert.ok(score.get(20 + i)! > score.get(i)!, `far input ${i} scores above its training input`);
  }
  assert.deepEqual(new Set(s.indices.subarray(0, 20)), new Set(Array.from({ length: 20 }, (_, i) => 20 + i)));
  // A named layer.
  const first = plain.layers[1]!.name;
  const named = await prepareSelection(plain, pool, strategyNeeds(strategySpec('dsa', { layer: first })), {
    seed: 1,
    train,
    probabilities,
  });
  assert.equal(named.features!.size, 16);
  await assert.rejects(
    prepareSelection(plain, pool, strategyNeeds(strategySpec('dsa', { layer: 'nope' })), { seed: 1, train }, 'dsa'),
    (e: Error) => e.message === `unknown layer 'nope' for dsa: the model's layers are [${plain.layers.map((l) => l.name).join(', ')}]`,
  );
});

test('an unlabeled pool: the model predictions as labels, badge and coreset from the penultimate layer', async () => {
  const { plain, pool, train } = await setup();
  const probabilities = await plain.predict(pool.x, pool.count);
  const unlabeled = { x: pool.x, count: pool.count, labels: argmaxRows(probabilities, 3) };
  for (const kind of ['badge', 'coreset'] as const) {
    const spec = strategySpec(kind);
    const input = await prepareSelection(plain, unlabeled, strategyNeeds(spec), { seed: 2, train, probabilities });
    assert.equal(input.features!.size, 8, `${kind}: the input of the output layer`);
    const s = await selectBatch(spec, input, { batch: 25, alpha: 0, rng: new Rng(3) });
    assert.equal(new Set(s.indices).size, 25);
  }
});

test('repair runs badge, coreset, bald and dsa arms, and refuses bald for a model without dropout before any arm runs', async () => {
  const { engine, dropout, plain, train, validation, pool, test: testSet, architecture } = await setup();
  const inputs = {
    engine,
    initial: dropout,
    train,
    validation,
    pool,
    test: testSet,
    architecture,
    training: { epochs: 2, batchSize: 32, learningRate: 0.01, optimizer: 'adam' as const },
  };
  const config = RepairConfigSchema.parse({
    strategy: strategySpec('badge'),
    compare: [strategySpec('coreset'), strategySpec('bald', { passes: '5' }), strategySpec('dsa')],
    iterations: 2,
    batch: 20,
    seed: 3,
    earlyStop: false,
  });
  const result = await runRepair(inputs, config);
  assert.deepEqual(
    result.arms.map((a) => a.name),
    ['badge', 'coreset', 'bald:5', 'dsa:last-hidden', 'control'],
  );
  for (const arm of result.arms) assert.equal(arm.iterations.length, 2, arm.name);
  await assert.rejects(
    runRepair({ ...inputs, initial: plain }, { ...config, strategy: strategySpec('entropy') }),
    /^ModeError: bald needs a model with dropout layers; this model has none/,
  );
  assert.equal(formatStrategy(config.compare[1]!), 'bald:5');
});
