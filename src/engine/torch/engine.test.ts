/**
 * The torch engine: the shared engine contract, models moving between engines (tfjs Layers files
 * written by one engine load on the other with the same predictions and layer outputs), the same
 * training on both from the same weights and seed, and bad input reaching the native layer.
 * Skipped where the addon is not built, except under CI, which installs libtorch (.ci/run).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ModeError } from '../../core/errors.js';
import { engineContract, toyData } from '../engine-contract.js';
import { createEngine, resolveEngineName } from '../index.js';
import type { ArchitectureSpec, Engine, Model } from '../types.js';
import { torchUnavailableReason } from './native.js';

const unavailable = torchUnavailableReason();

if (unavailable !== null) {
  if (process.env['CI']) {
    test('torch engine is built in CI', () => assert.fail(`CI must test the torch engine: ${unavailable}`));
  } else {
    test(`torch engine tests skipped: ${unavailable}`, { skip: unavailable }, () => {});
  }
} else {
  const { TorchEngine } = await import('./engine.js');
  engineContract('torch', async () => TorchEngine.create());
  crossEngineTests(
    () => createEngine('wasm'),
    async () => TorchEngine.create(),
  );
}

const maxDiff = (a: Float32Array, b: Float32Array): number => {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
};

function crossEngineTests(makeWasm: () => Promise<Engine>, makeTorch: () => Promise<Engine>): void {
  const data = toyData(200, 3, 9, 7);
  const side = 9;
  const mlp: ArchitectureSpec = {
    inputShape: [side, side, 1],
    numClasses: 3,
    layers: [{ type: 'flatten' }, { type: 'dense', units: 12, activation: 'tanh' }, { type: 'dense', units: 8, activation: 'elu' }],
  };
  // Odd input size with stride 2 and 'same' padding: Keras pads more at the bottom/right.
  const cnn: ArchitectureSpec = {
    inputShape: [side, side, 1],
    numClasses: 3,
    layers: [
      { type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', strides: 2 },
      { type: 'batchNormalization' },
      { type: 'activation', activation: 'relu' },
      { type: 'conv2d', filters: 6, kernelSize: 2, padding: 'same', activation: 'sigmoid' },
      { type: 'maxPool2d', poolSize: 2, padding: 'same' },
      { type: 'averagePooling2d', poolSize: 2, strides: 1, padding: 'same' },
      { type: 'flatten' },
      { type: 'dropout', rate: 0.2 },
      { type: 'dense', units: 8, activation: 'relu' },
    ],
  };
  const fitOptions = { epochs: 2, batchSize: 32, optimizer: { kind: 'adam', learningRate: 0.01 } as const, seed: 4 };

  const roundTrip = async (from: Engine, to: Engine, spec: ArchitectureSpec): Promise<[Model, Model]> => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mode-cross-'));
    try {
      const model = from.buildModel(spec, 5);
      await model.fit(data, fitOptions);
      await model.save(dir);
      return [model, await to.loadModel(dir)];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  for (const [label, spec] of [
    ['MLP', mlp],
    ['CNN with batch norm, same padding and pooling', cnn],
  ] as const) {
    for (const direction of ['wasm -> torch', 'torch -> wasm'] as const) {
      test(`cross-engine ${direction}: a trained ${label} saves and loads with the same predictions and layer outputs`, async () => {
        const [wasm, torch] = [await makeWasm(), await makeTorch()];
        const [a, b] = direction === 'wasm -> torch' ? await roundTrip(wasm, torch, spec) : await roundTrip(torch, wasm, spec);
        try {
          assert.deepEqual(b.layers, a.layers);
          assert.equal(b.parameterCount(), a.parameterCount());
          const diff = maxDiff(await a.predict(data.x, data.count), await b.predict(data.x, data.count));
          assert.ok(diff < 1e-4, `predictions differ by ${diff}`);
          const indices = a.layers.map((l) => l.index);
          const some = data.x.subarray(0, 20 * side * side);
          const [outA, outB] = [await a.layerOutputs(indices, some, 20), await b.layerOutputs(indices, some, 20)];
          for (const index of indices) {
            const d = maxDiff(outA[index]!.values, outB[index]!.values);
            assert.ok(d < 1e-4, `layer ${a.layers[index]!.name} outputs differ by ${d}`);
          }
        } finally {
          a.dispose();
          b.dispose();
        }
      });
    }
  }

  // tfjs' AvgPoolGrad divides by the whole window even where 'same' padding cuts it (its forward
  // divides by the cells inside), so average pooling with 'same' padding trains differently on tfjs;
  // libtorch's gradient is the true one. And Adam's first step is about lr * sign(gradient), which
  // amplifies rounding noise in gradients that are zero in exact arithmetic (a conv bias before batch
  // norm), so the batch-norm model is compared under SGD.
  const trainable: ArchitectureSpec = {
    ...cnn,
    layers: cnn.layers
      .filter((l) => l.type !== 'dropout')
      .map((l) => (l.type === 'averagePooling2d' ? { ...l, padding: 'valid' as const } : l)),
  };
  for (const [label, spec, optimizer] of [
    ['an MLP with Adam', mlp, { kind: 'adam', learningRate: 0.005 }],
    ['a CNN with batch norm and pooling with SGD and momentum', trainable, { kind: 'sgd', learningRate: 0.05, momentum: 0.9 }],
  ] as const) {
    test(`cross-engine: the same weights and seed train ${label} to the same model on both engines`, async () => {
      const [wasm, torch] = [await makeWasm(), await makeTorch()];
      const dir = mkdtempSync(path.join(os.tmpdir(), 'mode-cross-train-'));
      try {
        const start = wasm.buildModel(spec, 3);
        await start.save(dir);
        start.dispose();
        const [a, b] = [await wasm.loadModel(dir), await torch.loadModel(dir)];
        const options = { epochs: 2, batchSize: 25, optimizer, seed: 8 };
        const [ra, rb] = [await a.fit(data, options), await b.fit(data, options)];
        for (let e = 0; e < 2; e++) {
          assert.ok(Math.abs(ra.loss[e]! - rb.loss[e]!) < 1e-4, `epoch ${e + 1} loss ${ra.loss[e]} (wasm) vs ${rb.loss[e]} (torch)`);
          assert.ok(
            Math.abs(ra.accuracy[e]! - rb.accuracy[e]!) < 1e-6,
            `epoch ${e + 1} accuracy ${ra.accuracy[e]} (wasm) vs ${rb.accuracy[e]} (torch)`,
          );
        }
        const diff = maxDiff(await a.predict(data.x, data.count), await b.predict(data.x, data.count));
        assert.ok(diff < 1e-4, `predictions after training differ by ${diff}`);
        a.dispose();
        b.dispose();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test('cross-engine: feature heads on the same features agree', async () => {
    const [wasm, torch] = [await makeWasm(), await makeTorch()];
    const options = { epochs: 5, batchSize: 32, learningRate: 0.05, seed: 6 };
    const features = { ...data, size: side * side };
    const [ha, hb] = [await wasm.trainHead(features, 3, options), await torch.trainHead(features, 3, options)];
    // Different initial draws (each engine's sampler), same data order: both learn the task.
    const accuracy = async (h: typeof ha): Promise<number> => {
      const p = await h.predict(data.x, data.count);
      let correct = 0;
      for (let i = 0; i < data.count; i++) {
        const row = Array.from(p.subarray(i * 3, i * 3 + 3));
        if (row.indexOf(Math.max(...row)) === data.y[i]) correct++;
      }
      return correct / data.count;
    };
    assert.ok((await accuracy(ha)) > 0.9 && (await accuracy(hb)) > 0.9);
    await assert.rejects(hb.predict(data.x.subarray(0, 10), 1), /head expects 81 features per input/);
  });

  test('torch: inference runs convolutions in sub-batches and gives each input the outputs it gets in a small batch', async () => {
    const torch = await makeTorch();
    const model = torch.buildModel(cnn, 3);
    try {
      const indices = model.layers.map((l) => l.index);
      const firstDense = model.layers.findIndex((l) => l.type === 'dense');
      // One batch of 200 inputs: its convolutions run in 4 sub-batches of 50, its dense layers on all 200.
      const whole = await model.layerOutputs(indices, data.x, data.count, 200);
      // Batches of 40: below the sub-batch size, so run as they come.
      const rows = 40;
      for (let start = 0; start < data.count; start += rows) {
        const part = await model.layerOutputs(indices, data.x.subarray(start * side * side, (start + rows) * side * side), rows, rows);
        for (const index of indices) {
          const size = part[index]!.values.length / rows;
          const mine = whole[index]!.values.subarray(start * size, (start + rows) * size);
          // The convolutional layers give the same floats; a matrix product's rounding depends on its number of rows.
          if (index < firstDense) assert.deepEqual(mine, part[index]!.values, `layer ${model.layers[index]!.name}, rows from ${start}`);
          else assert.ok(maxDiff(mine, part[index]!.values) < 1e-6, `layer ${model.layers[index]!.name}, rows from ${start}`);
        }
      }
    } finally {
      model.dispose();
    }
  });

  test('torch: bad input reaching the native layer is one clear ModeError, never a crash', async () => {
    const torch = await makeTorch();
    const model = torch.buildModel(mlp, 1);
    const isOneLine =
      (pattern: RegExp) =>
      (error: unknown): boolean => {
        assert.ok(error instanceof ModeError, `expected a ModeError, got ${String(error)}`);
        assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
        assert.match(error.message, pattern);
        return true;
      };
    await assert.rejects(
      model.predict(data.x.subarray(0, 80), 1),
      isOneLine(/input holds 80 values but 1 inputs of shape \[9, 9, 1\] need 81/),
    );
    await assert.rejects(
      model.fit({ ...data, y: data.y.map((v, i) => (i === 3 ? 7 : v)) }, fitOptions),
      isOneLine(/label 7 at index 3 is outside the model's 3 classes/),
    );
    const infinite = { ...data, x: data.x.map((v, i) => (i === 81 * 2 + 4 ? Infinity : v)) };
    await assert.rejects(model.fit(infinite, fitOptions), isOneLine(/training input 2 holds Infinity at value 4/));
    model.dispose();
    assert.throws(() => model.clone(), isOneLine(/used after dispose/));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mode-torch-bad-'));
    try {
      const saved = torch.buildModel(cnn, 2);
      await saved.save(dir);
      saved.dispose();
      const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
        weightsManifest: { weights: { name: string; shape: number[] }[] }[];
      };
      // A kernel whose shape disagrees with its layer, total bytes unchanged.
      const weights = json.weightsManifest[0]!.weights;
      const kernel = weights.find((w) => w.name === 'conv2d_0/kernel')!;
      kernel.name = 'conv2d_0/kernel_renamed';
      writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      await assert.rejects(torch.loadModel(dir), isOneLine(/weight conv2d_0\/kernel is missing from the weights manifest/));
      unlinkSync(path.join(dir, 'weights.bin'));
      await assert.rejects(torch.loadModel(dir), isOneLine(/weights\.bin: weight file named in model\.json is missing/));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('torch: errors thrown in C++ reach TypeScript as one-line ModeErrors', async () => {
    const { loadTorchBinding } = await import('./native.js');
    const { createNet } = await import('./model.js');
    const { layersFromSpec } = await import('../keras/topology.js');
    const binding = loadTorchBinding();
    const keras = layersFromSpec(mlp, 1);
    const before = binding.liveTensors();
    assert.throws(
      () => createNet(binding, keras, [new Float32Array(3)]),
      (error: unknown) => {
        assert.ok(error instanceof ModeError && !error.message.includes('\n'));
        assert.match(error.message, /the torch engine refused the weights: weight 0 holds 3 values, expected 972/);
        return true;
      },
    );
    assert.equal(binding.liveTensors(), before, 'a refused network frees its tensors');
    const net = createNet(
      binding,
      keras,
      keras.layers.flatMap((l) => l.weights.map((w) => new Float32Array(w.shape.reduce((a, b) => a * b, 1)))),
    );
    // A C++ exception on the worker thread rejects the promise (here: output arrays of the wrong size).
    await assert.rejects(
      async () => net.forward(data.x.subarray(0, 81 * 2), 2, 8, Int32Array.of(1), [new Float32Array(5)]),
      /not a multiple of the input count/,
    );
    await assert.rejects(
      async () => net.forward(data.x.subarray(0, 81 * 2), 2, 8, Int32Array.of(1), [new Float32Array(2 * 7)]),
      /layer 1 outputs 12 values per input, expected 7/,
    );
    net.dispose();
    assert.equal(binding.liveTensors(), before);
  });

  test('engine selection: auto picks torch where the addon loads, and says so', async () => {
    assert.equal(await resolveEngineName('auto'), 'torch');
    const engine = await createEngine('auto');
    assert.equal(engine.info.name, 'torch');
    assert.match(engine.info.versions['libtorch'] ?? '', /^1\.13/);
    await assert.rejects(createEngine('tpu'), /unknown engine 'tpu': must be one of \[auto, torch, wasm, cpu\]/);
  });
}
