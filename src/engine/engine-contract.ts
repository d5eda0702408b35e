/**
 * The engine contract: one suite every Engine implementation must pass (Keras' run_layer_test idea).
 * Called from each engine's test file with a factory for that engine.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Rng } from '../core/rng.js';
import type { ArchitectureSpec, Engine, TrainingData } from './types.js';

/** Two-blob-per-class toy data, h x w x 1, learnable in a few epochs. */
export function toyData(count: number, numClasses: number, side: number, seed: number): TrainingData {
  const rng = new Rng(seed);
  const size = side * side;
  const x = new Float32Array(count * size);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % numClasses;
    y[i] = label;
    for (let j = 0; j < size; j++) {
      const on = Math.floor((j * numClasses) / size) === label ? 0.8 : 0.1;
      x[i * size + j] = Math.min(1, Math.max(0, on + 0.15 * rng.normal()));
    }
  }
  return { x, y, count };
}

const adam = { kind: 'adam', learningRate: 0.01 } as const;

export function engineContract(name: string, makeEngine: () => Promise<Engine>): void {
  const side = 8;
  const numClasses = 3;
  const mlp: ArchitectureSpec = {
    inputShape: [side, side, 1],
    numClasses,
    layers: [{ type: 'flatten' }, { type: 'dense', units: 16, activation: 'relu' }],
  };
  const cnn: ArchitectureSpec = {
    inputShape: [side, side, 1],
    numClasses,
    layers: [
      { type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
      { type: 'maxPool2d', poolSize: 2 },
      { type: 'flatten' },
      { type: 'dropout', rate: 0.1 },
      { type: 'dense', units: 8, activation: 'relu' },
    ],
  };
  const data = toyData(240, numClasses, side, 5);

  test(`${name}: fit reduces the loss and predict gives probabilities`, async () => {
    const engine = await makeEngine();
    for (const spec of [mlp, cnn]) {
      const model = engine.buildModel(spec, 11);
      const result = await model.fit(data, { epochs: 4, batchSize: 32, optimizer: adam, seed: 3 });
      assert.equal(result.loss.length, 4);
      assert.ok(result.loss[3]! < result.loss[0]!, `loss should fall: ${result.loss.join(', ')}`);
      const p = await model.predict(data.x, data.count, 50);
      assert.equal(p.length, data.count * numClasses);
      for (let i = 0; i < data.count; i += 37) {
        const sum = p[i * 3]! + p[i * 3 + 1]! + p[i * 3 + 2]!;
        assert.ok(Math.abs(sum - 1) < 1e-4);
      }
      model.dispose();
    }
  });

  test(`${name}: batch normalization and average pooling train, and survive save and load`, async () => {
    const engine = await makeEngine();
    const spec: ArchitectureSpec = {
      inputShape: [side, side, 1],
      numClasses,
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same' },
        { type: 'batchNormalization' },
        { type: 'activation', activation: 'relu' },
        { type: 'averagePooling2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 8, activation: 'tanh' },
      ],
    };
    const model = engine.buildModel(spec, 8);
    const result = await model.fit(data, { epochs: 4, batchSize: 32, optimizer: adam, seed: 3 });
    assert.ok(
      result.loss[3]! < result.loss[0]! && result.accuracy[3]! > 0.8,
      `loss ${result.loss.join(', ')}, accuracy ${result.accuracy.join(', ')}`,
    );
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mode-bn-'));
    try {
      await model.save(dir);
      const loaded = await engine.loadModel(dir);
      const a = await model.predict(data.x, data.count);
      const b = await loaded.predict(data.x, data.count);
      assert.ok(a.every((v, i) => Math.abs(v - b[i]!) < 1e-5));
      loaded.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      model.dispose();
    }
  });

  test(`${name}: layers, activations of every layer and of the input`, async () => {
    const engine = await makeEngine();
    const model = engine.buildModel(cnn, 1);
    assert.deepEqual(
      model.layers.map((l) => l.type),
      ['conv2d', 'maxPool2d', 'flatten', 'dropout', 'dense', 'dense'],
    );
    assert.deepEqual(model.layers[0]!.outputShape, [6, 6, 4]);
    assert.deepEqual(
      model.layers.map((l) => l.hasWeights),
      [true, false, false, false, true, true],
    );
    const input = await model.activations(-1, data.x.subarray(0, 10 * 64), 10);
    assert.equal(input.size, 64);
    const conv = await model.activations(0, data.x.subarray(0, 10 * 64), 10, 3);
    assert.equal(conv.size, 144);
    assert.equal(conv.values.length, 1440);
    assert.ok(
      conv.values.every((v) => v >= 0),
      'relu outputs are non-negative',
    );
    const many = await model.layerOutputs([1, -1, 0], data.x.subarray(0, 10 * 64), 10, 4);
    assert.deepEqual(
      many.map((a) => a.size),
      [36, 64, 144],
    );
    assert.deepEqual(many[2]!.values, conv.values);
    assert.deepEqual(many[1]!.values, input.values);
    // Into the caller's arrays: the same values, in those arrays; the raw input's entry is ignored.
    const into = [new Float32Array(360).fill(NaN), new Float32Array(640), new Float32Array(1440).fill(NaN)];
    const written = await model.layerOutputs([1, -1, 0], data.x.subarray(0, 10 * 64), 10, 4, into);
    assert.equal(written[0]!.values, into[0]);
    assert.equal(written[2]!.values, into[2]);
    assert.deepEqual(written, many);
    await assert.rejects(model.layerOutputs([0], data.x.subarray(0, 10 * 64), 10, 4, [new Float32Array(5)]), /holds 5 values/);
    await assert.rejects(model.activations(9, data.x.subarray(0, 64), 1), /layer index 9 is out of range/);
    await assert.rejects(model.predict(data.x.subarray(0, 63), 1), /does not fit this model/);
    model.dispose();
  });

  test(`${name}: dropout passes are seeded, differ from predict with dropout, equal it without, and leave batch norm alone`, async () => {
    const engine = await makeEngine();
    const x = data.x.subarray(0, 40 * side * side);
    // Dropout and batch normalization in one model: the passes must not move the moving statistics.
    const spec: ArchitectureSpec = {
      inputShape: [side, side, 1],
      numClasses,
      layers: [
        { type: 'flatten' },
        { type: 'dense', units: 16, activation: 'relu' },
        { type: 'batchNormalization' },
        { type: 'dropout', rate: 0.5 },
        { type: 'dense', units: 8, activation: 'relu' },
      ],
    };
    const model = engine.buildModel(spec, 4);
    await model.fit(data, { epochs: 2, batchSize: 32, optimizer: adam, seed: 3 });
    const plain = await model.predict(x, 40);
    const a = await model.predictWithDropout(x, 40, 7, 16);
    assert.equal(a.length, 40 * numClasses);
    for (let i = 0; i < 40; i++) assert.ok(Math.abs(a[i * 3]! + a[i * 3 + 1]! + a[i * 3 + 2]! - 1) < 1e-4, 'probabilities');
    assert.deepEqual(a, await model.predictWithDropout(x, 40, 7, 16), 'the same seed gives the same masks');
    assert.notDeepEqual(a, await model.predictWithDropout(x, 40, 8, 16), 'another seed, other masks');
    assert.ok(
      a.some((v, i) => Math.abs(v - plain[i]!) > 1e-4),
      'dropout changes the probabilities',
    );
    assert.deepEqual(await model.predict(x, 40), plain, 'batch norm statistics and weights are unchanged');
    const without = engine.buildModel(mlp, 4);
    const p = await without.predict(x, 40);
    const q = await without.predictWithDropout(x, 40, 7);
    assert.ok(
      p.every((v, i) => Math.abs(v - q[i]!) < 1e-6),
      'without dropout layers a pass is predict',
    );
    model.dispose();
    without.dispose();
  });

  test(`${name}: same seed, same model and same training`, async () => {
    const engine = await makeEngine();
    const run = async (): Promise<Float32Array> => {
      const model = engine.buildModel(cnn, 42);
      await model.fit(data, { epochs: 2, batchSize: 16, optimizer: adam, seed: 9 });
      const p = await model.predict(data.x, data.count);
      model.dispose();
      return p;
    };
    assert.deepEqual(await run(), await run());
  });

  test(`${name}: clone copies weights and is independent`, async () => {
    const engine = await makeEngine();
    const model = engine.buildModel(mlp, 2);
    await model.fit(data, { epochs: 1, batchSize: 32, optimizer: adam, seed: 1 });
    const twin = model.clone();
    assert.deepEqual(await twin.predict(data.x, data.count), await model.predict(data.x, data.count));
    await twin.fit(data, { epochs: 1, batchSize: 32, optimizer: adam, seed: 2 });
    assert.notDeepEqual(await twin.predict(data.x, data.count), await model.predict(data.x, data.count));
    twin.dispose();
    model.dispose();
  });

  test(`${name}: save and load round-trip in the tfjs Layers format`, async () => {
    const engine = await makeEngine();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mode-engine-'));
    try {
      const model = engine.buildModel(cnn, 4);
      await model.fit(data, { epochs: 1, batchSize: 32, optimizer: adam, seed: 1 });
      await model.save(dir);
      const loaded = await engine.loadModel(dir);
      assert.deepEqual(
        loaded.layers.map((l) => l.type),
        model.layers.map((l) => l.type),
      );
      const a = await model.predict(data.x, data.count);
      const b = await loaded.predict(data.x, data.count);
      assert.ok(a.every((v, i) => Math.abs(v - b[i]!) < 1e-6));
      model.dispose();
      loaded.dispose();
      writeFileSync(path.join(dir, 'weights.bin'), Buffer.alloc(10));
      await assert.rejects(engine.loadModel(dir), /corrupt or incomplete/);
      writeFileSync(path.join(dir, 'model.json'), '{"modelTopology": ');
      await assert.rejects(engine.loadModel(dir), /not valid JSON/);
      await assert.rejects(engine.loadModel(path.join(dir, 'nope')), /does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: a softmax head trains on cached features`, async () => {
    const engine = await makeEngine();
    const head = await engine.trainHead({ ...data, size: 64 }, numClasses, { epochs: 20, batchSize: 32, learningRate: 0.05, seed: 1 });
    assert.equal(head.weights.length, 64 * numClasses);
    const p = await head.predict(data.x, data.count);
    let correct = 0;
    for (let i = 0; i < data.count; i++) {
      const row = Array.from(p.subarray(i * 3, i * 3 + 3));
      if (row.indexOf(Math.max(...row)) === data.y[i]) correct++;
    }
    assert.ok(correct / data.count > 0.9, `head accuracy ${correct / data.count}`);
  });

  test(`${name}: no tensor leaks across repeated train, predict, activations, clone`, async () => {
    const engine = await makeEngine();
    const cycle = async (): Promise<void> => {
      const model = engine.buildModel(cnn, 3);
      await model.fit(data, { epochs: 1, batchSize: 64, optimizer: adam, seed: 1 });
      await model.predict(data.x, data.count);
      await model.activations(1, data.x, data.count);
      const twin = model.clone();
      await twin.predict(data.x.subarray(0, 10 * 64), 10, 5);
      twin.dispose();
      model.dispose();
      await engine.trainHead({ ...data, size: 64 }, numClasses, { epochs: 1, batchSize: 64, learningRate: 0.01, seed: 1 });
    };
    await cycle();
    const before = engine.liveTensors();
    for (let i = 0; i < 3; i++) await cycle();
    assert.equal(engine.liveTensors(), before);
  });

  test(`${name}: training on NaN inputs is refused with the input named`, async () => {
    const engine = await makeEngine();
    const model = engine.buildModel(mlp, 1);
    const bad = { ...data, x: data.x.map((v, i) => (i === 5 ? NaN : v)) };
    await assert.rejects(
      model.fit(bad, { epochs: 1, batchSize: 32, optimizer: adam, seed: 1 }),
      /training input 0 holds NaN at value 5; inputs must be finite/,
    );
    model.dispose();
  });
}
