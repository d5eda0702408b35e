/**
 * Our wasm kernels against the tfjs 'cpu' backend (the reference): values within 1e-4 relative to the
 * largest |cpu value|, over shapes, strides, paddings, batch sizes and channel counts; plus a tiny CNN
 * training step, the stock MaxPoolGrad bug, and no tensor/buffer leaks.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { isReplacedWasmKernel, registerWasmKernels, REPLACED_WASM_KERNELS, restoreStockWasmKernels } from './index.js';
import { setBackpropFilterRoute, setIm2colChunkElements } from './conv2d-backprop-filter.js';

const require = createRequire(import.meta.url);
const TOL = 1e-4;

type Backend = 'wasm' | 'cpu';
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

before(async () => {
  tf.env().set('IS_NODE', true);
  tf.env().set('PROD', true);
  setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/');
  registerWasmKernels();
  assert.ok(await tf.setBackend('wasm'));
  await tf.ready();
});

after(async () => {
  setBackpropFilterRoute('auto');
  setIm2colChunkElements(null);
  await tf.setBackend('wasm');
});

/** Deterministic values in [-1, 1) (xorshift32). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

const size = (shape: readonly number[]): number => shape.reduce((p, q) => p * q, 1);

/** Runs `fn` on a backend (inputs must be created inside it) and returns its outputs' values. */
async function runOn(backend: Backend, fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  try {
    const outs = tf.tidy(() => {
      const r = fn();
      return Array.isArray(r) ? r : [r];
    });
    const data = outs.map((t) => Float32Array.from(t.dataSync()));
    tf.dispose(outs);
    return data;
  } finally {
    await tf.setBackend('wasm');
  }
}

function maxRelErr(got: Float32Array, want: Float32Array): number {
  assert.equal(got.length, want.length, 'length');
  let maxAbs = 0;
  let maxDiff = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as number;
    const g = got[i] as number;
    if (Number.isNaN(g) !== Number.isNaN(w)) return Infinity;
    maxAbs = Math.max(maxAbs, Math.abs(w));
    maxDiff = Math.max(maxDiff, Math.abs(g - w));
  }
  return maxDiff / Math.max(maxAbs, 1e-6);
}

async function assertSameOnBoth(label: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<void> {
  const wasm = await runOn('wasm', fn);
  const cpu = await runOn('cpu', fn);
  assert.equal(wasm.length, cpu.length, label);
  wasm.forEach((w, i) => {
    const err = maxRelErr(w, cpu[i] as Float32Array);
    assert.ok(err <= TOL, `${label} output ${i}: max relative error ${err.toExponential(2)} > ${TOL}`);
  });
}

interface ConvCase {
  batch: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  stride: number;
  pad: Pad;
}

function convCases(): ConvCase[] {
  const cases: ConvCase[] = [];
  const shapes: [number, number, number, number, number, number][] = [
    // batch, h, w, ci, co, kernel
    [1, 5, 7, 1, 2, 3],
    [3, 8, 8, 3, 5, 3],
    [2, 9, 6, 4, 3, 2],
    [2, 10, 11, 2, 6, 5],
    [4, 7, 7, 5, 1, 1],
  ];
  for (const [batch, h, w, ci, co, k] of shapes) {
    for (const stride of [1, 2]) {
      for (const pad of ['valid', 'same'] as const) {
        if (pad === 'valid' && (k > h || k > w)) continue;
        cases.push({ batch, h, w, ci, co, kh: k, kw: k, stride, pad });
      }
    }
  }
  // Non-square filter, explicit and numeric paddings.
  cases.push({ batch: 2, h: 9, w: 8, ci: 3, co: 4, kh: 3, kw: 2, stride: 2, pad: 'same' });
  cases.push({
    batch: 2,
    h: 8,
    w: 9,
    ci: 2,
    co: 3,
    kh: 3,
    kw: 3,
    stride: 1,
    pad: [
      [0, 0],
      [1, 2],
      [2, 0],
      [0, 0],
    ],
  });
  cases.push({ batch: 2, h: 8, w: 8, ci: 2, co: 3, kh: 3, kw: 3, stride: 2, pad: 1 });
  // Padding wider than the filter: the backprop-input correlation route falls back to stock.
  cases.push({
    batch: 1,
    h: 6,
    w: 6,
    ci: 2,
    co: 2,
    kh: 3,
    kw: 3,
    stride: 1,
    pad: [
      [0, 0],
      [3, 0],
      [0, 3],
      [0, 0],
    ],
  });
  return cases;
}

function caseLabel(c: ConvCase): string {
  return `x[${c.batch},${c.h},${c.w},${c.ci}] f[${c.kh},${c.kw},${c.ci},${c.co}] s${c.stride} ${JSON.stringify(c.pad)}`;
}

/** Gradients of sum(conv2d(x, f) * dy) w.r.t. x (Conv2DBackpropInput) and f (Conv2DBackpropFilter). */
function convGrads(c: ConvCase, seed: number): () => tf.Tensor[] {
  return () => {
    const x = tf.tensor4d(values(c.batch * c.h * c.w * c.ci, seed), [c.batch, c.h, c.w, c.ci]);
    const f = tf.tensor4d(values(c.kh * c.kw * c.ci * c.co, seed + 1), [c.kh, c.kw, c.ci, c.co]);
    const y = tf.conv2d(x, f, c.stride, c.pad as 'valid');
    const dy = tf.tensor(values(size(y.shape), seed + 2), y.shape);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf
        .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad as 'valid')
        .mul(dy)
        .sum(),
    );
    return g([x, f]);
  };
}

test('kernels are registered for wasm, idempotently, and can be swapped back to stock', () => {
  registerWasmKernels();
  registerWasmKernels();
  for (const name of REPLACED_WASM_KERNELS) assert.ok(isReplacedWasmKernel(name), name);
  restoreStockWasmKernels(['BatchMatMul', 'Conv2DBackpropFilter']);
  assert.equal(isReplacedWasmKernel('BatchMatMul'), false);
  assert.notEqual(tf.getKernel('BatchMatMul', 'wasm'), undefined, 'stock BatchMatMul back');
  assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm'), undefined, 'no stock Conv2DBackpropFilter');
  registerWasmKernels();
  for (const name of REPLACED_WASM_KERNELS) assert.ok(isReplacedWasmKernel(name), name);
});

test('Conv2DBackpropFilter and Conv2DBackpropInput match cpu', async () => {
  let seed = 10;
  for (const c of convCases()) {
    for (const route of ['im2col', 'conv'] as const) {
      setBackpropFilterRoute(route);
      try {
        await assertSameOnBoth(`${caseLabel(c)} [${route}]`, convGrads(c, (seed += 3)));
      } finally {
        setBackpropFilterRoute('auto');
      }
    }
  }
});

test('Conv2DBackpropFilter im2col route in batch chunks matches cpu', async () => {
  const c: ConvCase = { batch: 5, h: 9, w: 7, ci: 3, co: 4, kh: 3, kw: 3, stride: 2, pad: 'same' };
  setIm2colChunkElements(27 * 5 * 4 * 2); // two images per chunk: chunks of 2, 2, 1
  try {
    for (const route of ['im2col'] as const) {
      setBackpropFilterRoute(route);
      await assertSameOnBoth(`${caseLabel(c)} [${route}, chunked]`, convGrads(c, 99));
    }
  } finally {
    setBackpropFilterRoute('auto');
    setIm2colChunkElements(null);
  }
});

test('BatchMatMul with and without transposes matches cpu', async () => {
  let seed = 200;
  const cases: [number[], number[], boolean, boolean][] = [];
  for (const [m, k, n] of [
    [5, 7, 3],
    [64, 40, 100],
    [1, 6, 4],
    [6, 1, 4],
    [6, 4, 1],
    [3, 50, 2],
  ] as const) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        cases.push([ta ? [k, m] : [m, k], tb ? [n, k] : [k, n], ta, tb]);
      }
    }
  }
  cases.push([[2, 3, 4], [2, 5, 4], false, true]);
  cases.push([[2, 4, 3], [2, 4, 5], true, false]);
  cases.push([[3, 4, 3], [1, 5, 4], true, true]);
  for (const [as, bs, ta, tb] of cases) {
    seed += 2;
    const s = seed;
    await assertSameOnBoth(`matMul a[${as}] b[${bs}] tA=${ta} tB=${tb}`, () =>
      tf.matMul(tf.tensor(values(size(as), s), as), tf.tensor(values(size(bs), s + 1), bs), ta, tb),
    );
  }
});

interface PoolCase {
  batch: number;
  h: number;
  w: number;
  c: number;
  size: number;
  stride: number;
  pad: 'valid' | 'same';
}

function poolGrad(p: PoolCase, seed: number, transform: (x: Float32Array) => Float32Array): () => tf.Tensor {
  return () => {
    const x = tf.tensor4d(transform(values(p.batch * p.h * p.w * p.c, seed)), [p.batch, p.h, p.w, p.c]);
    const y = tf.maxPool(x, p.size, p.stride, p.pad);
    const dy = tf.tensor(values(size(y.shape), seed + 1), y.shape);
    return tf.grad((a: tf.Tensor) =>
      tf
        .maxPool(a as tf.Tensor4D, p.size, p.stride, p.pad)
        .mul(dy)
        .sum(),
    )(x);
  };
}

const poolCases: PoolCase[] = [
  { batch: 1, h: 4, w: 4, c: 1, size: 2, stride: 2, pad: 'valid' },
  { batch: 3, h: 9, w: 7, c: 5, size: 2, stride: 2, pad: 'valid' },
  { batch: 2, h: 9, w: 7, c: 3, size: 2, stride: 2, pad: 'same' },
  { batch: 2, h: 8, w: 8, c: 4, size: 3, stride: 2, pad: 'same' },
  { batch: 2, h: 8, w: 8, c: 4, size: 3, stride: 1, pad: 'valid' },
  { batch: 2, h: 7, w: 6, c: 2, size: 3, stride: 1, pad: 'same' },
  { batch: 1, h: 26, w: 26, c: 16, size: 2, stride: 2, pad: 'valid' },
];

test('MaxPoolGrad matches cpu, including ties and all-negative windows', async () => {
  let seed = 400;
  const transforms: [string, (x: Float32Array) => Float32Array][] = [
    ['random', (x) => x],
    // Coarse values: many ties inside windows; gradient goes to the first maximum.
    ['ties', (x) => x.map((v) => Math.round(v * 2) / 2)],
    ['all negative', (x) => x.map((v) => -Math.abs(v) - 0.01)],
    ['all zero', (x) => x.map(() => 0)],
    // NaN is never a maximum on the cpu backend; a window of only NaN/-Infinity passes nothing.
    ['NaN and -Infinity', (x) => x.map((v, i) => (i % 5 === 0 ? NaN : i % 7 === 0 ? -Infinity : v))],
  ];
  for (const p of poolCases) {
    for (const [name, fn] of transforms) {
      await assertSameOnBoth(`maxPool ${JSON.stringify(p)} ${name}`, poolGrad(p, (seed += 2), fn));
    }
  }
});

test('MaxPoolGrad passes gradient through all-negative windows (the stock wasm kernel does not)', async () => {
  const p: PoolCase = { batch: 2, h: 6, w: 6, c: 3, size: 2, stride: 2, pad: 'valid' };
  const negative = (x: Float32Array): Float32Array => x.map((v) => -Math.abs(v) - 0.01);
  const ones = (): tf.Tensor => {
    const x = tf.tensor4d(negative(values(p.batch * p.h * p.w * p.c, 7)), [p.batch, p.h, p.w, p.c]);
    return tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, p.size, p.stride, p.pad).sum())(x);
  };
  const [cpu] = await runOn('cpu', ones);
  const [ours] = await runOn('wasm', ones);
  const outputs = p.batch * (p.h / 2) * (p.w / 2) * p.c;
  const total = (a: Float32Array | undefined): number => (a ?? new Float32Array()).reduce((s, v) => s + v, 0);
  assert.equal(total(cpu), outputs, 'cpu: one unit of gradient per window');
  assert.equal(total(ours), outputs, 'ours: one unit of gradient per window');
  restoreStockWasmKernels(['MaxPoolGrad']);
  try {
    const [stock] = await runOn('wasm', ones);
    // Stock 4.22 starts each window at (smallest positive float, flat offset 0), so an all-negative
    // window's gradient goes to x[0] and survives only for the window(s) holding x[0].
    assert.ok(total(stock) <= 1, `stock wasm MaxPoolGrad passed ${total(stock)} of ${outputs}; if it passes all, upstream fixed the bug`);
  } finally {
    registerWasmKernels();
  }
});

const CNN_INPUT: [number, number, number] = [14, 14, 1];

function tinyCnn(): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: CNN_INPUT, filters: 16, kernelSize: 3, activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  return m;
}

/** Loss, gradients and weights after one SGD step of the tiny CNN, from fixed weights and data. */
function cnnStep(batch: number): () => Promise<{ loss: number; grads: Float32Array[]; after: Float32Array[] }> {
  return async () => {
    const model = tinyCnn();
    const init = model.getWeights().map((w, i) =>
      tf.tensor(
        values(w.size, 1000 + i).map((v) => v * 0.3),
        w.shape,
      ),
    );
    model.setWeights(init);
    tf.dispose(init);
    const x = tf.tensor4d(values(batch * size(CNN_INPUT), 77), [batch, ...CNN_INPUT]);
    const labels = Array.from({ length: batch }, (_, i) => (i * 3) % 10);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat());
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const lossFn = (): tf.Scalar => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar;
    const { value, grads } = tf.variableGrads(lossFn, vars);
    const g = vars.map((v) => Float32Array.from((grads[v.name] as tf.Tensor).dataSync()));
    const loss = value.dataSync()[0] as number;
    tf.dispose([value, ...Object.values(grads)]);
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    await model.trainOnBatch(x, y);
    const after = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
    model.optimizer.dispose();
    model.dispose();
    tf.dispose([x, y]);
    return { loss, grads: g, after };
  };
}

async function onBackend<T>(backend: Backend, fn: () => Promise<T>): Promise<T> {
  await tf.setBackend(backend);
  try {
    return await fn();
  } finally {
    await tf.setBackend('wasm');
  }
}

test('tiny CNN trains one step on wasm and matches cpu loss, gradients and updated weights', async () => {
  const wasm = await onBackend('wasm', cnnStep(8));
  const cpu = await onBackend('cpu', cnnStep(8));
  assert.ok(Number.isFinite(wasm.loss));
  assert.ok(Math.abs(wasm.loss - cpu.loss) <= TOL * Math.abs(cpu.loss), `loss ${wasm.loss} vs ${cpu.loss}`);
  assert.equal(wasm.grads.length, 6);
  wasm.grads.forEach((g, i) => {
    const err = maxRelErr(g, cpu.grads[i] as Float32Array);
    assert.ok(err <= TOL, `gradient ${i}: max relative error ${err.toExponential(2)}`);
    assert.ok(
      g.some((v) => v !== 0),
      `gradient ${i} is all zero`,
    );
  });
  wasm.after.forEach((w, i) => {
    const err = maxRelErr(w, cpu.after[i] as Float32Array);
    assert.ok(err <= TOL, `weights ${i} after one step: max relative error ${err.toExponential(2)}`);
  });
});

test('no tensors or wasm buffers leak across repeated kernel calls and training steps', async () => {
  await tf.setBackend('wasm');
  const c: ConvCase = { batch: 2, h: 9, w: 9, ci: 3, co: 4, kh: 3, kw: 3, stride: 2, pad: 'valid' };
  const p = poolCases[2] as PoolCase;
  const work = async (): Promise<void> => {
    for (const route of ['im2col', 'conv'] as const) {
      setBackpropFilterRoute(route);
      tf.dispose(tf.tidy(convGrads(c, 5)));
    }
    setBackpropFilterRoute('auto');
    tf.dispose(tf.tidy(poolGrad(p, 6, (x) => x)));
    tf.tidy(() => {
      const a = tf.tensor2d(values(12, 1), [3, 4]);
      const b = tf.tensor2d(values(20, 2), [5, 4]);
      tf.matMul(a, b, false, true).dataSync();
      tf.matMul(b, tf.tensor2d(values(15, 5), [5, 3]), true, false).dataSync();
      tf.matMul(tf.tensor2d(values(64 * 3, 3), [64, 3]), tf.tensor2d(values(200 * 3, 4), [200, 3]), false, true).dataSync();
    });
    await cnnStep(4)();
  };
  await work();
  const before = tf.memory();
  for (let i = 0; i < 3; i++) await work();
  const afterMem = tf.memory();
  assert.equal(afterMem.numTensors, before.numTensors, 'tensors');
  assert.equal(afterMem.numDataBuffers, before.numDataBuffers, 'wasm data buffers');
  assert.equal(afterMem.numBytes, before.numBytes, 'bytes');
});
