/** The repair loop on synthetic data: regimes, the no-regression guard, budget checks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../core/rng.js';
import { applyScenarios, loadDataset, splitDataset } from '../data/index.js';
import { createEngine, type ArchitectureSpec } from '../engine/index.js';
import { strategySpec } from '../select/strategies.js';
import { RepairConfigSchema } from './repair-config.js';
import { runRepair, type RepairInputs } from './repair.js';

async function setup(): Promise<RepairInputs> {
  const engine = await createEngine('wasm');
  const dataset = await loadDataset('synthetic:classes=3,size=8,n=1500,test=300,noise=0.9,seed=2');
  const splits = splitDataset(dataset, { trainSize: 600, validationSize: 300, poolSize: 600, seed: 1 });
  const train = applyScenarios(splits.train, [{ kind: 'starve', labels: [2], fraction: 0.02 }], new Rng(1));
  const architecture: ArchitectureSpec = {
    inputShape: dataset.inputShape,
    numClasses: 3,
    layers: [{ type: 'flatten' }, { type: 'dense', units: 12, activation: 'relu' }],
  };
  const initial = engine.buildModel(architecture, 3);
  await initial.fit(train, { epochs: 4, batchSize: 32, optimizer: { kind: 'adam', learningRate: 0.01 }, seed: 1 });
  return {
    engine,
    initial,
    train,
    validation: splits.validation,
    pool: splits.pool,
    test: splits.test,
    architecture,
    training: { epochs: 4, batchSize: 32, learningRate: 0.01, optimizer: 'adam' },
  };
}

test('repair: every regime runs, the control matches the budget, and the starved label improves with targeted picks', async () => {
  const inputs = await setup();
  for (const retrain of ['cumulative', 'batch-only', 'scratch'] as const) {
    const config = RepairConfigSchema.parse({
      strategy: strategySpec('targeted-random'),
      compare: [strategySpec('mode', { map: 'dhm', order: 'most' })],
      iterations: 2,
      batch: 40,
      alpha: 0.5,
      retrain,
      seed: 4,
      layerSelection: 'none',
    });
    const result = await runRepair(inputs, config);
    assert.deepEqual(
      result.initial.bugs.map((b) => b.label),
      [2],
    );
    assert.deepEqual(
      result.rows.map((r) => r.strategy),
      ['targeted-random', 'mode:dhm:most:cosine:importance:top', 'control'],
    );
    const control = result.arms.at(-1)!;
    assert.equal(control.iterations.length, 2, `${retrain}: the control runs every iteration`);
    for (const arm of result.arms) {
      const picked = arm.iterations.flatMap((it) => it.selected.indices);
      assert.equal(new Set(picked).size, picked.length, `${retrain}/${arm.name}: no input is selected twice`);
    }
    const targeted = result.rows[0]!;
    assert.ok(targeted.targetAfter! > targeted.targetBefore!, `${retrain}: label 2 ${targeted.targetBefore} -> ${targeted.targetAfter}`);
  }
  inputs.initial.dispose();
});

test('repair: the no-regression guard reports and rolls back, and the budget may not exceed the pool', async () => {
  const inputs = await setup();
  const config = RepairConfigSchema.parse({
    strategy: strategySpec('entropy'),
    iterations: 3,
    batch: 30,
    seed: 1,
    delta: 0,
    rollback: true,
    retrain: 'batch-only',
    fineTuneEpochs: 3,
    theta: 1,
  });
  const result = await runRepair(inputs, config);
  const iterations = result.arms[0]!.iterations;
  const rolled = iterations.filter((it) => it.rolledBack);
  assert.ok(rolled.length > 0, 'with delta 0 some iteration regresses a label');
  for (const it of rolled) {
    assert.ok(it.regressions.length > 0);
    const before = it.iteration === 1 ? result.initial.validation : iterations[it.iteration - 2]!.validation;
    assert.deepEqual(it.validation.perLabel, before.perLabel, 'a rolled-back iteration keeps the previous model');
  }
  // theta 0: nothing is buggy. With early stop, targeted-random stops at once; without, it spends the budget on the weakest label.
  const stopped = await runRepair(
    inputs,
    RepairConfigSchema.parse({ strategy: strategySpec('targeted-random'), iterations: 2, batch: 20, seed: 1, theta: 0, gamma: 1 }),
  );
  assert.equal(stopped.arms[0]!.iterations.length, 0);
  assert.equal(stopped.rows[0]!.finishedEarly, true);
  const spent = await runRepair(
    inputs,
    RepairConfigSchema.parse({
      strategy: strategySpec('targeted-random'),
      iterations: 2,
      batch: 20,
      seed: 1,
      theta: 0,
      gamma: 1,
      earlyStop: false,
    }),
  );
  assert.equal(spent.arms[0]!.iterations.length, 2);
  const weakest = result.initial.validation.perLabel.indexOf(Math.min(...result.initial.validation.perLabel));
  assert.equal(spent.arms[0]!.iterations[0]!.target!.label, weakest);
  await assert.rejects(
    runRepair(inputs, RepairConfigSchema.parse({ strategy: strategySpec('random'), iterations: 7, batch: 100, seed: 1 })),
    /budget of 7 iterations x batch 100 = 700 inputs is larger than the pool \(600\)/,
  );
  inputs.initial.dispose();
});

test('repair: a shared control arm gives the same result as computing it (the control ignores strategy, layer selection and alpha)', async () => {
  const inputs = await setup();
  const base = { iterations: 2, batch: 30, seed: 9, theta: 1, earlyStop: false } as const;
  const first = await runRepair(
    inputs,
    RepairConfigSchema.parse({ ...base, strategy: strategySpec('mode'), layerSelection: 'saturation', alpha: 0.5 }),
  );
  const shared = first.arms.at(-1)!;
  const other = RepairConfigSchema.parse({ ...base, strategy: strategySpec('targeted-random'), layerSelection: 'none', alpha: 0.25 });
  const computed = await runRepair(inputs, other);
  const reused = await runRepair(inputs, other, undefined, { control: shared });
  assert.deepEqual(reused.rows, computed.rows);
  assert.deepEqual(
    reused.arms.map((a) => a.iterations),
    computed.arms.map((a) => a.iterations),
  );
  assert.equal(reused.arms.at(-1), shared, 'the shared arm is used as it is');
  await assert.rejects(
    runRepair(inputs, RepairConfigSchema.parse({ ...other, iterations: 3 }), undefined, { control: shared }),
    /a shared control arm must be a control of 3 iterations \(got 'control' with 2\)/,
  );
  inputs.initial.dispose();
});
