/**
 * Model import and export: the fixtures of scripts/make-model-fixtures.py (PyTorch models exported
 * to ONNX, the same weights as Keras .keras and .h5 files) load on every engine here and give
 * torch's probabilities; exported ONNX runs in onnxruntime-node with our predictions; broken files
 * and unsupported ops are refused with one line and write nothing.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { unzipSync, zipSync } from 'fflate';
import * as ort from 'onnxruntime-node';
import { ModeError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { createEngine, torchUnavailable, type Engine, type Model } from '../../engine/index.js';
import { loadModelFolder } from '../model-folder.js';
import { IMPORT_RECORD_FILE } from './imported.js';
import { importCacheFolder } from './model-source.js';
import { exportOnnx } from './onnx-export.js';

/** The fixtures, found from the repository root whether the test runs from src/ or dist/. */
const ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  fileURLToPath(import.meta.url).includes('/dist/') ? '../../../..' : '../../..',
);
const FIXTURES = path.join(ROOT, 'src', 'model', 'import', 'fixtures');

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mode-import-test-'));
process.env.MODE_CACHE = path.join(tmp, 'cache');
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Io {
  layout: 'nchw' | 'nhwc';
  shape: number[];
  count: number;
  x: number[];
  probabilities: number[];
}

const io = (name: string): Io => JSON.parse(readFileSync(path.join(FIXTURES, `${name}.io.json`), 'utf8')) as Io;

/** NCHW inputs as the NHWC rows our models take. */
function toNhwc(d: Io): Float32Array {
  const x = Float32Array.from(d.x);
  if (d.layout === 'nhwc' || d.shape.length !== 3) return x;
  const [c, h, w] = d.shape as [number, number, number];
  const out = new Float32Array(x.length);
  for (let n = 0; n < d.count; n++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++) out[n * c * h * w + (y * w + xx) * c + ch] = x[n * c * h * w + ch * h * w + y * w + xx]!;
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const FIXTURE_CASES = [
  { file: 'mlp.onnx', io: 'mlp', format: 'onnx', layout: 'nchw', softmaxAppended: true, input: [null, 1, 8, 8] },
  { file: 'cnn3.onnx', io: 'cnn3', format: 'onnx', layout: 'nchw', softmaxAppended: true, input: [null, 3, 8, 8] },
  { file: 'cnn1.onnx', io: 'cnn1', format: 'onnx', layout: 'nchw', softmaxAppended: false, input: [null, 1, 8, 8] },
  { file: 'matmul.onnx', io: 'matmul', format: 'onnx', layout: 'nchw', softmaxAppended: true, input: [null, 1, 8, 8] },
  { file: 'cnn3.keras', io: 'cnn3-keras', format: 'keras', layout: 'nhwc', softmaxAppended: true, input: [null, 8, 8, 3] },
  { file: 'cnn1.keras', io: 'cnn1-keras', format: 'keras', layout: 'nhwc', softmaxAppended: false, input: [null, 8, 8, 1] },
  { file: 'cnn3.h5', io: 'cnn3-keras', format: 'h5', layout: 'nhwc', softmaxAppended: true, input: [null, 8, 8, 3] },
  { file: 'cnn1.h5', io: 'cnn1-keras', format: 'h5', layout: 'nhwc', softmaxAppended: false, input: [null, 8, 8, 1] },
] as const;

const engines: [string, () => Promise<Engine>][] = [['wasm', () => createEngine('wasm')]];
const torchMissing = await torchUnavailable();
if (torchMissing === null) engines.push(['torch', () => createEngine('torch')]);
else test(`torch engine import tests skipped: ${torchMissing}`, { skip: torchMissing }, () => {});

for (const [engineName, makeEngine] of engines) {
  for (const c of FIXTURE_CASES) {
    test(`${engineName}: ${c.file} imports and predicts torch's probabilities within 1e-4`, async () => {
      const engine = await makeEngine();
      const { model, source, folder, manifest } = await loadModelFolder(path.join(FIXTURES, c.file), engine);
      try {
        assert.equal(manifest, null);
        assert.ok(source !== null);
        assert.equal(source.format, c.format);
        assert.equal(source.layout, c.layout);
        assert.equal(source.softmaxAppended, c.softmaxAppended);
        assert.deepEqual(source.input.shape, c.input);
        assert.ok(folder.startsWith(importCacheFolder()));
        assert.ok(existsSync(path.join(folder, IMPORT_RECORD_FILE)));
        assert.equal(model.layers[model.layers.length - 1]!.activation, 'softmax');
        const d = io(c.io);
        const p = await model.predict(toNhwc(d), d.count);
        assert.ok(maxDiff(p, d.probabilities) < 1e-4, `max difference ${maxDiff(p, d.probabilities)}`);
        // The probabilities say something: not all inputs get the same class.
        const argmax = Array.from({ length: d.count }, (_, i) => {
          const row = Array.from(p.subarray(i * model.numClasses, (i + 1) * model.numClasses));
          return row.indexOf(Math.max(...row));
        });
        assert.ok(new Set(argmax).size > 1 || c.file.startsWith('cnn1'), `argmax ${argmax.join(',')}`);
      } finally {
        model.dispose();
      }
    });
  }
}

test('an imported file is converted once: the second load reuses the cached folder', async () => {
  const engine = await createEngine('wasm');
  const first = await loadModelFolder(path.join(FIXTURES, 'mlp.onnx'), engine);
  const stamp = readFileSync(path.join(first.folder, 'model.json'));
  first.model.dispose();
  const second = await loadModelFolder(path.join(FIXTURES, 'mlp.onnx'), engine);
  second.model.dispose();
  assert.equal(second.folder, first.folder);
  assert.deepEqual(readFileSync(path.join(second.folder, 'model.json')), stamp);
  assert.match(path.basename(first.folder), /^[0-9a-f]{64}-v\d+$/);
});

async function ortRun(file: string, inputName: string, outputName: string, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file);
  const result = await session.run({ [inputName]: new ort.Tensor('float32', x, dims) });
  return result[outputName]!.data as Float32Array;
}

for (const c of FIXTURE_CASES) {
  test(`export: ${c.file} as ONNX runs in onnxruntime with our predictions within 1e-4`, async () => {
    const engine = await createEngine('wasm');
    const out = path.join(tmp, `export-${c.file}.onnx`);
    const info = await exportOnnx(path.join(FIXTURES, c.file), out);
    const d = io(c.io);
    const { model, source } = await loadModelFolder(path.join(FIXTURES, c.file), engine);
    try {
      const ours = await model.predict(toNhwc(d), d.count);
      if (c.layout === 'nchw') {
        // The source's own layout and names.
        assert.equal(info.layout, 'nchw');
        assert.equal(info.input.name, source!.input.name);
        assert.equal(info.output.name, source!.output.name);
        assert.deepEqual(info.input.shape, c.input);
      } else {
        assert.equal(info.layout, 'nhwc');
      }
      const theirs = await ortRun(out, info.input.name, info.output.name, Float32Array.from(d.x), [d.count, ...d.shape]);
      assert.ok(maxDiff(theirs, ours) < 1e-4, `max difference ${maxDiff(theirs, ours)}`);
      assert.ok(maxDiff(theirs, d.probabilities) < 1e-4);
    } finally {
      model.dispose();
    }
  });
}

test('export: a model trained here (NHWC, conv same and valid, pooling, batch norm, dropout, flatten of 3 channels) runs in onnxruntime alike', async () => {
  const engine = await createEngine('wasm');
  const model: Model = engine.buildModel(
    {
      inputShape: [8, 8, 3],
      numClasses: 4,
      layers: [
        { type: 'conv2d', filters: 5, kernelSize: 3, padding: 'same', activation: 'relu' },
        { type: 'averagePooling2d', poolSize: 2, padding: 'same' },
        { type: 'conv2d', filters: 6, kernelSize: 2, strides: 1, activation: 'tanh' },
        { type: 'batchNormalization' },
        { type: 'maxPool2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dropout', rate: 0.25 },
        { type: 'dense', units: 12, activation: 'elu' },
        { type: 'activation', activation: 'sigmoid' },
      ],
    },
    3,
  );
  const rng = new Rng(5);
  const count = 40;
  const x = Float32Array.from({ length: count * 8 * 8 * 3 }, () => rng.next());
  const y = Int32Array.from({ length: count }, (_, i) => i % 4);
  await model.fit({ x, y, count }, { epochs: 2, batchSize: 8, optimizer: { kind: 'adam', learningRate: 0.01 }, seed: 1 });
  const dir = path.join(tmp, 'trained');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir);
  await model.save(dir);
  const ours = await model.predict(x, count);
  model.dispose();
  const out = path.join(tmp, 'trained.onnx');
  const info = await exportOnnx(dir, out);
  assert.equal(info.layout, 'nhwc');
  assert.deepEqual(info.input.shape, [null, 8, 8, 3]);
  const theirs = await ortRun(out, info.input.name, info.output.name, x, [count, 8, 8, 3]);
  assert.ok(maxDiff(theirs, ours) < 1e-4, `max difference ${maxDiff(theirs, ours)}`);
  // The exported file imports back (its input Transpose read as an NHWC input) with the same predictions.
  const back = await loadModelFolder(out, engine);
  try {
    assert.equal(back.source?.layout, 'nhwc');
    assert.deepEqual(back.source?.input, { name: 'input', shape: [null, 8, 8, 3] });
    assert.equal(back.source?.softmaxAppended, false);
    const again = await back.model.predict(x, count);
    assert.ok(maxDiff(again, ours) < 1e-4, `max difference ${maxDiff(again, ours)}`);
  } finally {
    back.model.dispose();
  }
});

test('export with options.source: a folder without import.json (as a repair writes) goes back to the source layout and names', async () => {
  const engine = await createEngine('wasm');
  const { folder, source, model } = await loadModelFolder(path.join(FIXTURES, 'cnn3.onnx'), engine);
  model.dispose();
  const copy = path.join(tmp, 'repaired-like');
  cpSync(folder, copy, { recursive: true });
  rmSync(path.join(copy, IMPORT_RECORD_FILE));
  const plain = await exportOnnx(copy, path.join(tmp, 'plain.onnx'));
  assert.equal(plain.layout, 'nhwc');
  const back = await exportOnnx(copy, path.join(tmp, 'back.onnx'), { source });
  assert.equal(back.layout, 'nchw');
  assert.deepEqual(back.input, { name: 'input', shape: [null, 3, 8, 8] });
  assert.equal(back.output.name, 'logits');
  const d = io('cnn3');
  const theirs = await ortRun(path.join(tmp, 'back.onnx'), 'input', 'logits', Float32Array.from(d.x), [d.count, ...d.shape]);
  assert.ok(maxDiff(theirs, d.probabilities) < 1e-4);
});

// ----- refusals: one line, a ModeError, nothing in the cache -----

function badFile(name: string, bytes: Uint8Array): string {
  const file = path.join(tmp, name);
  writeFileSync(file, bytes);
  return file;
}

const cnn3Onnx = readFileSync(path.join(FIXTURES, 'cnn3.onnx'));
const cnn3Keras = readFileSync(path.join(FIXTURES, 'cnn3.keras'));
const rng = new Rng(11);

/** cnn3.keras with its config.json changed. */
function kerasWithConfig(name: string, edit: (layers: Record<string, unknown>[]) => void, className = 'Sequential'): string {
  const entries = unzipSync(cnn3Keras);
  const config = JSON.parse(new TextDecoder().decode(entries['config.json'])) as {
    class_name: string;
    config: { layers: Record<string, unknown>[] };
  };
  edit(config.config.layers);
  config.class_name = className;
  return badFile(name, zipSync({ ...entries, 'config.json': new TextEncoder().encode(JSON.stringify(config)) }));
}
const BAD_CASES: { name: string; file: () => string; code: string; message: RegExp }[] = [
  {
    name: 'a truncated .onnx',
    file: () => badFile('truncated.onnx', cnn3Onnx.subarray(0, 1000)),
    code: 'model',
    message: /truncated\.onnx: not a readable ONNX model \(.*\); the file is corrupt or truncated$/,
  },
  {
    name: 'random bytes as .onnx',
    file: () =>
      badFile(
        'random.onnx',
        Uint8Array.from({ length: 600 }, () => Math.floor(rng.next() * 256)),
      ),
    code: 'model',
    message: /random\.onnx: not a readable ONNX model/,
  },
  {
    name: 'a corrupt .keras zip',
    file: () => badFile('corrupt.keras', Buffer.concat([cnn3Keras.subarray(0, 300), Buffer.alloc(64), cnn3Keras.subarray(364)])),
    code: 'model',
    message: /corrupt\.keras: not a readable \.keras file \(.*\); the zip is corrupt or truncated$/,
  },
  {
    name: 'a truncated .h5',
    file: () => badFile('truncated.h5', readFileSync(path.join(FIXTURES, 'cnn3.h5')).subarray(0, 5000)),
    code: 'model',
    message: /truncated\.h5: not a readable HDF5 file; the file is corrupt or truncated$/,
  },
  {
    name: 'an .h5 that is not a Keras model',
    file: () => path.join(FIXTURES, 'not-keras.h5'),
    code: 'model',
    message: /not-keras\.h5: not a Keras model \(the HDF5 file has no model_config attribute/,
  },
  {
    name: 'an .onnx with a LeakyRelu',
    file: () => path.join(FIXTURES, 'bad-leakyrelu.onnx'),
    code: 'model',
    message: /bad-leakyrelu\.onnx: node '[^']*LeakyRelu' \(LeakyRelu\): op LeakyRelu is not supported; supported: Gemm/,
  },
  {
    name: 'an .onnx with a grouped convolution',
    file: () => path.join(FIXTURES, 'bad-groups.onnx'),
    code: 'model',
    message: /bad-groups\.onnx: node '[^']*Conv' \(Conv\): group 2 is not supported/,
  },
  {
    name: 'an .onnx with a ceil_mode pooling that changes the output size',
    file: () => path.join(FIXTURES, 'bad-ceil.onnx'),
    code: 'model',
    message: /bad-ceil\.onnx: node '[^']*MaxPool' \(MaxPool\): ceil_mode 1 changes the output size here, which is not supported/,
  },
  {
    name: 'a .keras with a layer class the engines lack',
    file: () =>
      kerasWithConfig('leaky.keras', (layers) =>
        layers.splice(2, 0, { class_name: 'LeakyReLU', config: { name: 'leaky', negative_slope: 0.1 } }),
      ),
    code: 'model',
    message: /leaky\.keras: layer 'leaky' \(LeakyReLU\): layer class 'LeakyReLU' is not supported; supported: Dense, Conv2D/,
  },
  {
    name: 'a .keras whose config is not a Sequential model',
    file: () => kerasWithConfig('functional.keras', () => {}, 'Functional'),
    code: 'model',
    message: /functional\.keras: a Keras 'Functional' model is not supported \(Sequential models only\)$/,
  },
  {
    name: 'a missing file',
    file: () => path.join(tmp, 'missing.onnx'),
    code: 'io',
    message: /model file '.*missing\.onnx' does not exist$/,
  },
];

for (const c of BAD_CASES) {
  test(`refused with one line, nothing cached: ${c.name}`, async () => {
    const cache = path.join(tmp, `cache-${c.name.replace(/[^a-z]+/g, '-')}`);
    process.env.MODE_CACHE = cache;
    try {
      const engine = await createEngine('wasm');
      const file = c.file();
      await assert.rejects(loadModelFolder(file, engine), (error: unknown) => {
        assert.ok(error instanceof ModeError, String(error));
        assert.equal(error.code, c.code);
        assert.match(error.message, c.message);
        assert.ok(!error.message.includes('\n'), 'one line');
        return true;
      });
      await assert.rejects(exportOnnx(file, path.join(tmp, 'never.onnx')), ModeError);
      assert.ok(!existsSync(path.join(tmp, 'never.onnx')));
      assert.ok(!existsSync(cache) || readdirSync(path.join(cache, 'imports')).length === 0, 'nothing in the cache');
    } finally {
      process.env.MODE_CACHE = path.join(tmp, 'cache');
    }
  });
}
