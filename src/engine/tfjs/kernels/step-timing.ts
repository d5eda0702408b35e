/**
 * Benchmark (not a test): training-step time on 'wasm' with and without our replacement kernels.
 *
 *   npx tsc -p tsconfig.json --outDir .build-kernels && node .build-kernels/src/engine/tfjs/kernels/step-timing.js [steps]
 *
 * CNN: batch 64, 28x28x1, conv3x3x16 relu, maxpool2, conv3x3x32 relu, maxpool2, flatten, dense128 relu,
 * dense10 softmax, Adam. MLP: 784-256-128-10 relu, batch 64, Adam. Synthetic data, seeded initialisers.
 * Prints median and fastest step (wall) and median process CPU time; the machine may be shared.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { registerWasmKernels, restoreStockWasmKernels, type WasmKernelName } from './index.js';

const require = createRequire(import.meta.url);

/** Deterministic values in [-1, 1) (no Math.random in src/). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

function oneHot(batch: number, classes: number): tf.Tensor2D {
  const labels = Array.from({ length: batch }, (_, i) => (i * 7) % classes);
  return tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat() as tf.Tensor2D);
}

function init(seed: number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed });
}

export function buildCnn(): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(3) }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(4) }));
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return m;
}

export function buildMlp(): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu', kernelInitializer: init(5) }));
  m.add(tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(6) }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(7) }));
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return m;
}

export interface StepTiming {
  /** Median wall-clock ms per step. */
  wallMs: number;
  /** Median process CPU ms (user + system) per step: less sensitive to other processes on the cores. */
  cpuMs: number;
  /** Fastest step, wall-clock ms: the best estimate on a busy machine. */
  minMs: number;
}

const median = (v: number[]): number => {
  const s = v.slice().sort((p, q) => p - q);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

/** Median time per trainOnBatch step, after 3 warm-up steps. */
async function timeSteps(model: tf.Sequential, x: tf.Tensor, y: tf.Tensor, steps: number): Promise<StepTiming> {
  for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await model.trainOnBatch(x, y);
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wallMs: median(wall), cpuMs: median(cpu), minMs: Math.min(...wall) };
}

async function bench(kind: 'cnn' | 'mlp', ours: readonly WasmKernelName[], steps: number): Promise<StepTiming> {
  restoreStockWasmKernels();
  registerWasmKernels(ours);
  await tf.setBackend('wasm'); // re-runs kernel setup functions
  const batch = 64;
  const x = kind === 'cnn' ? tf.tensor4d(values(batch * 784, 11), [batch, 28, 28, 1]) : tf.tensor2d(values(batch * 784, 11), [batch, 784]);
  const y = oneHot(batch, 10);
  const model = kind === 'cnn' ? buildCnn() : buildMlp();
  try {
    return await timeSteps(model, x, y, steps);
  } finally {
    model.optimizer.dispose();
    model.dispose();
    tf.dispose([x, y]);
  }
}

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 20);
  setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/');
  tf.env().set('IS_NODE', true);
  tf.env().set('PROD', true);
  registerWasmKernels();
  await tf.setBackend('wasm');
  await tf.ready();
  const all: WasmKernelName[] = ['Conv2DBackpropFilter', 'BatchMatMul', 'Conv2DBackpropInput', 'MaxPoolGrad'];
  const rows: [string, readonly WasmKernelName[]][] = [
    ['stock + Conv2DBackpropFilter only', ['Conv2DBackpropFilter']],
    ['  + BatchMatMul', ['Conv2DBackpropFilter', 'BatchMatMul']],
    ['  + Conv2DBackpropInput', ['Conv2DBackpropFilter', 'BatchMatMul', 'Conv2DBackpropInput']],
    ['all four (+ MaxPoolGrad)', all],
  ];
  const show = (t: StepTiming): string =>
    `median ${t.wallMs.toFixed(1)} ms wall, ${t.cpuMs.toFixed(1)} ms cpu; min ${t.minMs.toFixed(1)} ms ` +
    `(${((64 / t.wallMs) * 1000).toFixed(0)} samples/s at the median, ${((64 / t.minMs) * 1000).toFixed(0)} at the min)`;
  for (const [label, ours] of rows) {
    console.log(`CNN step, ${label}: ${show(await bench('cnn', ours, steps))}`);
  }
  for (const [label, ours] of [
    ['stock BatchMatMul', [] as WasmKernelName[]],
    ['our BatchMatMul', all],
  ] as const) {
    console.log(`MLP step, ${label}: ${show(await bench('mlp', ours, steps * 5))}`);
  }
  registerWasmKernels();
  console.log(`tensors left: ${tf.memory().numTensors}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
