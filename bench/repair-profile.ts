/**
 * Profile of one repair cell of the `buggy` preset, stage by stage: MNIST with the digits 3 and 8
 * starved to 2%, 5 iterations of batch 200, alpha 0.25, cumulative retraining, layer selection by
 * saturation every iteration, no early stop. Each cell runs in a fresh process, as a sweep's worker
 * runs it, so its peak resident memory is the worker's; the initial models are trained once and kept.
 *
 *   npm run bench:repair [-- --models mlp,cnn --strategies mode,entropy --engine torch --seed 1 --threads 1 --batch 200 --no-huge-pages]
 *
 * Prints, per model and strategy, the seconds of each stage of the strategy's arm and of the control
 * arm (random selection, computed once per model, seed and budget in a sweep and shared by its
 * cells), the time to open the model and its data, to write the cell to a result store, and the
 * process's peak resident memory; writes bench/results/repair-profile.json and .md.
 * --threads: intra-op threads of the cell's engine (a sweep with 2 workers on 2 cores gives each 1).
 * --batch: the inputs picked an iteration, 200 or the preset's other batch, 2000.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  createEngine,
  parseStrategy,
  repairModel,
  resolveTrainConfig,
  saveModelFolder,
  trainModel,
  writeOutputFolder,
  ResultStore,
  computeProcessEnv,
  expandCells,
  parseExperimentConfig,
  type EngineName,
} from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const RESULTS = path.join(root, 'bench', 'results');
const MODELS = path.join(root, 'runs', 'bench', 'repair-profile');

/** The buggy preset's cell settings (src/experiment/presets.ts). */
const cellOf = (batch: number) =>
  ({ iterations: 5, batch, alpha: 0.25, retrain: 'cumulative', layerSelection: 'saturation', earlyStop: false }) as const;
const SCENARIO = { starve: '3,8:0.02' };

interface ChildResult {
  model: string;
  strategy: string;
  engine: string;
  threads: number;
  /** Seconds of each stage of the strategy's arm and of the control's. */
  arm: Record<string, number>;
  control: Record<string, number>;
  /** Opening the model and rebuilding its data; writing the cell into a result store; the whole cell. */
  open: number;
  store: number;
  total: number;
  /** Peak resident set size of the process, MiB (VmHWM). */
  peakMiB: number;
  /** Whether the process ran with huge pages (computeProcessEnv). */
  hugePages: boolean;
}

function peakResidentMiB(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}

/** The cell, in this process: repair, then write it to a throwaway store. Prints one JSON line. */
async function child(model: string, strategy: string, engineName: string, threads: number, seed: number, batch: number): Promise<void> {
  const cell = cellOf(batch);
  const engine = await createEngine(engineName as EngineName, { threads });
  const dir = modelDir(model, seed);
  const started = performance.now();
  const run = await repairModel(dir, engine, { ...cell, strategy: parseStrategy(strategy), seed });
  const total = (performance.now() - started) / 1000;
  const arms = run.manifest.timings.arms;
  const arm = Object.entries(arms).find(([name]) => name !== 'control')![1];
  const control = arms['control']!;
  const storeFile = path.join(os.tmpdir(), `mode-profile-${process.pid}.sqlite`);
  const store = await ResultStore.open(storeFile);
  const [storeCell] = expandCells(
    parseExperimentConfig({
      datasets: ['mnist'],
      scenarios: [SCENARIO],
      models: [model],
      seeds: [seed],
      strategies: [strategy],
      batches: [cell.batch],
      alphas: [cell.alpha],
      iterations: [cell.iterations],
      retrain: [cell.retrain],
      layerSelections: [cell.layerSelection],
      earlyStop: cell.earlyStop,
    }),
  );
  const t = performance.now();
  await store.recordCell({
    key: storeCell!.key,
    modelKey: storeCell!.modelKey,
    label: storeCell!.label,
    config: storeCell!.config,
    result: run.json,
    seconds: total,
  });
  const storeSeconds = (performance.now() - t) / 1000;
  await store.close();
  rmSync(storeFile, { force: true });
  for (const suffix of ['-wal', '-shm']) rmSync(storeFile + suffix, { force: true });
  const open = total - arm['total']! - control['total']!;
  const result: ChildResult = {
    model,
    strategy,
    engine: engine.info.name,
    threads,
    arm,
    control,
    open,
    store: storeSeconds,
    total,
    peakMiB: peakResidentMiB(),
    hugePages: (process.env['GLIBC_TUNABLES'] ?? '').includes('hugetlb'),
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

const modelDir = (model: string, seed: number): string => path.join(MODELS, `mnist-${model}-s${seed}`, 'model');

async function ensureModel(model: string, engineName: string, seed: number): Promise<void> {
  const dir = modelDir(model, seed);
  if (existsSync(path.join(dir, 'manifest.json'))) return;
  process.stderr.write(`training the initial ${model} (mnist, starve 3,8:0.02, seed ${seed}) into ${dir}\n`);
  const engine = await createEngine(engineName as EngineName);
  const trained = await trainModel(resolveTrainConfig({ dataset: 'mnist', model, seed, scenarios: SCENARIO }), { engine });
  mkdirSync(path.dirname(dir), { recursive: true });
  await writeOutputFolder(dir, false, (d) => saveModelFolder(d, trained.model, trained.manifest, trained.metrics));
  trained.model.dispose();
}

const STAGES = ['detect', 'predict', 'activations', 'heads', 'layer-selection', 'maps', 'vectors', 'select', 'retrain', 'evaluate'];

function markdown(results: readonly ChildResult[]): string {
  const head = ['stage', ...results.flatMap((r) => [`${r.model} ${r.strategy}`, `${r.model} control`])];
  const row = (name: string, values: number[]): string => `| ${name} | ${values.map((v) => v.toFixed(2)).join(' | ')} |`;
  const lines = [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...STAGES.map((s) =>
      row(
        s,
        results.flatMap((r) => [r.arm[s] ?? 0, r.control[s] ?? 0]),
      ),
    ),
    row(
      'arm total',
      results.flatMap((r) => [r.arm['total']!, r.control['total']!]),
    ),
  ];
  const cells = results.map(
    (r) =>
      `- ${r.model} ${r.strategy}: cell ${r.total.toFixed(1)} s (open model and data ${r.open.toFixed(1)} s, store ${(1000 * r.store).toFixed(1)} ms), ` +
      `peak resident memory ${r.peakMiB.toFixed(0)} MiB; engine ${r.engine}, ${r.threads} thread${r.threads === 1 ? '' : 's'}, ` +
      `huge pages ${r.hugePages ? 'on' : 'off'}`,
  );
  return [...lines, '', ...cells].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      models: { type: 'string', default: 'mlp,cnn' },
      strategies: { type: 'string', default: 'mode,entropy' },
      engine: { type: 'string', default: 'torch' },
      seed: { type: 'string', default: '1' },
      threads: { type: 'string', default: '1' },
      batch: { type: 'string', default: '200' },
      child: { type: 'boolean', default: false },
      model: { type: 'string' },
      strategy: { type: 'string' },
      out: { type: 'string', default: 'repair-profile' },
      'no-huge-pages': { type: 'boolean', default: false },
    },
  });
  const seed = Number(values.seed);
  const threads = Number(values.threads);
  const batch = Number(values.batch);
  if (values.child) return child(values.model!, values.strategy!, values.engine, threads, seed, batch);
  const results: ChildResult[] = [];
  for (const model of values.models.split(',')) {
    await ensureModel(model, values.engine, seed);
    for (const strategy of values.strategies.split(',')) {
      process.stderr.write(`profiling ${model} ${strategy} on ${values.engine} (${threads} thread${threads === 1 ? '' : 's'})\n`);
      const args = [fileURLToPath(import.meta.url), '--child', '--model', model, '--strategy', strategy, '--engine', values.engine];
      // As a sweep starts its workers (computeProcessEnv); --no-huge-pages leaves huge pages out.
      const env = computeProcessEnv(values['no-huge-pages'] ? { ...process.env, MODE_HUGE_PAGES: '0' } : process.env);
      // --expose-gc: as a sweep starts its workers (worker-pool.ts), so collectGarbage frees what a repair drops.
      const r = spawnSync(
        process.execPath,
        ['--expose-gc', ...args, '--seed', String(seed), '--threads', String(threads), '--batch', String(batch)],
        {
          encoding: 'utf8',
          env,
        },
      );
      if (r.status !== 0)
        throw new Error(`the ${model} ${strategy} cell failed: ${r.stderr.split('\n').find((l) => /Error/.test(l)) ?? r.stderr}`);
      results.push(JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildResult);
    }
  }
  const text = markdown(results);
  process.stdout.write(text + '\n');
  // --out: a name under bench/results, or a path.
  const out = path.resolve(RESULTS, values.out);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(`${out}.json`, JSON.stringify({ date: new Date().toISOString(), cell: cellOf(batch), seed, results }, null, 2) + '\n');
  writeFileSync(`${out}.md`, `# Repair cell profile (\`npm run bench:repair\`)\n\n${text}\n`);
}

await main();
