/**
 * The labeling workflow end to end, as a practitioner runs it: a model that underfits a starved
 * Fashion-MNIST label, a pool of 25,000 PNGs whose labels `mode select` never sees, a queue of
 * `--budget` inputs, a script in the labeler's place (it reads the hidden labels of exactly the
 * queued files), and `mode repair --add`. Over seeds, at the same number of labels: the starved
 * label's test recall (and the mean over the labels buggy at the start) after the default queue vs a
 * random queue, paired, Holm-corrected; and what targeted strategies lose by reading the model's
 * predicted pool labels instead of the true ones.
 *
 *   node dist/bench/labeling-study.js --seeds 1-5 --budget 1000 --out runs/labeling-study
 *   node dist/bench/labeling-study.js --aggregate --out runs/labeling-study   (tables only)
 *
 * Every step is a `mode` process (the CLI is what is studied). Resumable: finished steps are kept.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { zipSync } from 'fflate';
import { AddDocSchema, comparePaired, holm, loadDataset, QueueDocSchema, Rng, summarizeValues } from '../src/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

/** The starved label: Shirt, the label Fashion-MNIST models confuse most (with T-shirt, pullover, coat). */
const STARVED = 6;
const STARVE_SHARE = 0.02;
const LABELED = 35_000;
const POOL = 25_000;
const TRAIN = 30_000;
/** The split of the training file into labeled data and pool is fixed; seeds vary the model, its split and the selection. */
const DATA_SEED = 2026;

/** The arms: a queue from each, at the same budget. `truth`: the strategy reads the pool's true labels (what predicted labels cost). */
const ARMS = [
  { name: 'default', args: [] as string[] },
  { name: 'random', args: ['--strategy', 'random'] },
  { name: 'entropy', args: ['--strategy', 'entropy'] },
  { name: 'targeted-random', args: ['--strategy', 'targeted-random'] },
  { name: 'default (true pool labels)', args: ['--use-pool-labels'] },
  { name: 'targeted-random (true pool labels)', args: ['--strategy', 'targeted-random', '--use-pool-labels'] },
] as const;

function mode(args: string[]): string {
  const r = spawnSync(process.execPath, [MAIN, '--engine', 'torch', '--quiet', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`mode ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** A .npy file (format version 1.0) of uint8 values. */
function npy(values: Uint8Array, shape: readonly number[]): Uint8Array {
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + values.length);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(values, 10 + header.length);
  return out;
}

const bytesOf = (x: Float32Array): Uint8Array => Uint8Array.from(x, (v) => Math.round(v * 255));

/** The labeled data (npz with the test file), the pool (a flat folder of PNGs) and its hidden labels, once. */
async function prepare(dir: string): Promise<void> {
  if (existsSync(path.join(dir, 'pool-labels.json')) && existsSync(path.join(dir, 'pool-labeled.npz'))) return;
  mkdirSync(path.join(dir, 'pool'), { recursive: true });
  const fashion = await loadDataset('fashion-mnist');
  const order = new Rng(DATA_SEED).permutation(fashion.train.count);
  const size = 28 * 28;
  const pick = (indices: Int32Array): { x: Uint8Array; y: Uint8Array } => {
    const x = new Uint8Array(indices.length * size);
    indices.forEach((i, k) => x.set(bytesOf(fashion.train.x.subarray(i * size, (i + 1) * size)), k * size));
    return { x, y: Uint8Array.from(indices, (i) => fashion.train.y[i]!) };
  };
  const labeled = pick(order.slice(0, LABELED));
  const test = fashion.test!;
  const npz = zipSync({
    'x_train.npy': npy(labeled.x, [LABELED, 28, 28]),
    'y_train.npy': npy(labeled.y, [LABELED]),
    'x_test.npy': npy(bytesOf(test.x), [test.count, 28, 28]),
    'y_test.npy': npy(Uint8Array.from(test.y), [test.count]),
  });
  writeFileSync(path.join(dir, 'labeled.npz'), npz);
  const pool = pick(order.slice(LABELED, LABELED + POOL));
  // The same pool with its labels, in file order, for the arms that read the true pool labels.
  writeFileSync(path.join(dir, 'pool-labeled.npz'), zipSync({ 'x.npy': npy(pool.x, [POOL, 28, 28]), 'y.npy': npy(pool.y, [POOL]) }));
  if (existsSync(path.join(dir, 'pool-labels.json'))) return;
  const labels: Record<string, number> = {};
  for (let k = 0; k < POOL; k++) {
    const file = `p${String(k).padStart(5, '0')}.png`;
    await sharp(Buffer.from(pool.x.subarray(k * size, (k + 1) * size)), { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(path.join(dir, 'pool', file));
    labels[file] = pool.y[k]!;
  }
  writeFileSync(path.join(dir, 'pool-labels.json'), JSON.stringify(labels));
}

interface ArmResult {
  readonly arm: string;
  readonly seed: number;
  /** The starved label's test recall, and the mean over the labels buggy at the start, before and after. */
  readonly starvedBefore: number;
  readonly starvedAfter: number;
  readonly buggyBefore: number;
  readonly buggyAfter: number;
  readonly accuracyAfter: number;
  /** How many of the queued inputs truly are of the starved label. */
  readonly starvedQueued: number;
  readonly guardPassed: boolean;
  readonly selectSeconds: Record<string, number>;
}

async function runSeed(dir: string, seed: number, budget: number): Promise<ArmResult[]> {
  const seedDir = path.join(dir, `seed-${seed}`);
  const model = path.join(seedDir, 'model');
  const data = `npz:${path.join(dir, 'labeled.npz')}`;
  const imagePool = `images:${path.join(dir, 'pool')}`;
  const labeledPool = `npz:${path.join(dir, 'pool-labeled.npz')}`;
  if (!existsSync(path.join(model, 'manifest.json'))) {
    mode(
      ['train', '--dataset', data, '--model', 'mlp', '--epochs', '3', '--starve', `${STARVED}:${STARVE_SHARE}`]
        .concat(['--train-size', String(TRAIN), '--validation-size', String(LABELED - TRAIN), '--pool-size', '0'])
        .concat(['--seed', String(seed), '--out', model]),
    );
  }
  const hidden = JSON.parse(readFileSync(path.join(dir, 'pool-labels.json'), 'utf8')) as Record<string, number>;
  const fileOf = (index: number): string => `p${String(index).padStart(5, '0')}.png`;
  const results: ArmResult[] = [];
  for (const arm of ARMS) {
    const slug = arm.name.replace(/[^a-z]+/g, '-').replace(/-$/, '');
    const queue = path.join(seedDir, `queue-${slug}`);
    const repaired = path.join(seedDir, `repaired-${slug}`);
    // The pool the strategy sees: the folder of PNGs; or, for the arms that read true pool labels, the same inputs with their labels.
    const pool = (arm.args as readonly string[]).includes('--use-pool-labels') ? labeledPool : imagePool;
    if (!existsSync(path.join(queue, 'queue.json'))) {
      mode([
        'select',
        '--model',
        model,
        '--data',
        data,
        '--pool',
        pool,
        '--budget',
        String(budget),
        '--seed',
        String(seed),
        '--out',
        queue,
        ...arm.args,
      ]);
    }
    const doc = QueueDocSchema.parse(JSON.parse(readFileSync(path.join(queue, 'queue.json'), 'utf8')));
    // The labeler: the hidden labels of exactly the queued files.
    const fileOfRow = (r: { file: string | null; index: number }): string => r.file ?? fileOf(r.index);
    const csv =
      [`${pool === imagePool ? 'file' : 'index'},label`, ...doc.rows.map((r) => `${r.file ?? r.index},${hidden[fileOfRow(r)]}`)].join(
        '\n',
      ) + '\n';
    writeFileSync(path.join(seedDir, `labels-${slug}.csv`), csv);
    if (!existsSync(path.join(repaired, 'repair-add.json'))) {
      mode(
        ['repair', '--model', model, '--data', data, '--add', path.join(seedDir, `labels-${slug}.csv`), '--pool', pool].concat([
          '--queue',
          queue,
          '--seed',
          String(seed),
          '--out',
          repaired,
        ]),
      );
    }
    const add = AddDocSchema.parse(JSON.parse(readFileSync(path.join(repaired, 'repair-add.json'), 'utf8')));
    const buggy = doc.analysis.bugs.map((b) => Number(b.label));
    const meanOver = (perLabel: (number | null)[]): number => buggy.reduce((s, l) => s + (perLabel[l] ?? NaN), 0) / buggy.length;
    const manifest = JSON.parse(readFileSync(path.join(queue, 'manifest.json'), 'utf8')) as { timings: Record<string, number> };
    results.push({
      arm: arm.name,
      seed,
      starvedBefore: add.before.test!.perLabel[STARVED] ?? NaN,
      starvedAfter: add.after.test!.perLabel[STARVED] ?? NaN,
      buggyBefore: meanOver(add.before.test!.perLabel),
      buggyAfter: meanOver(add.after.test!.perLabel),
      accuracyAfter: add.after.test!.accuracy ?? NaN,
      starvedQueued: doc.rows.filter((r) => hidden[fileOfRow(r)] === STARVED).length,
      guardPassed: add.guard.passed,
      selectSeconds: manifest.timings,
    });
  }
  return results;
}

const fmt = (v: number, digits = 4): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');

function tables(results: readonly ArmResult[], budget: number): { markdown: string; comparisons: unknown[] } {
  const seeds = [...new Set(results.map((r) => r.seed))].sort((a, b) => a - b);
  const of = (arm: string, key: 'starvedAfter' | 'buggyAfter' | 'accuracyAfter' | 'starvedQueued'): number[] =>
    seeds.map((s) => results.find((r) => r.arm === arm && r.seed === s)![key]);
  const lines = [
    `Fashion-MNIST, MLP, label ${STARVED} (Shirt) starved to ${STARVE_SHARE * 100}% of its training inputs; pool of ${POOL} unlabeled PNGs; ` +
      `${budget} labels per queue; seeds ${seeds.join(', ')}; test figures (decisions use validation only).`,
    '',
    '| queue | Shirt test recall after (mean [95% CI]) | buggy labels mean recall after | test accuracy after | Shirts in the queue |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const arm of ARMS.map((a) => a.name)) {
    const s = summarizeValues(of(arm, 'starvedAfter'));
    lines.push(
      `| ${arm} | ${fmt(s.mean)} [${fmt(s.mean - s.ci95)}, ${fmt(s.mean + s.ci95)}] | ${fmt(summarizeValues(of(arm, 'buggyAfter')).mean)} | ` +
        `${fmt(summarizeValues(of(arm, 'accuracyAfter')).mean)} | ${fmt(summarizeValues(of(arm, 'starvedQueued')).mean, 1)} |`,
    );
  }
  const before = summarizeValues(seeds.map((s) => results.find((r) => r.seed === s)!.starvedBefore));
  lines.push(
    '',
    `Before any repair: Shirt test recall ${fmt(before.mean)} [${fmt(before.mean - before.ci95)}, ${fmt(before.mean + before.ci95)}].`,
    '',
  );
  const pairs = [
    ['default', 'random', 'the default queue against a random queue'],
    ['entropy', 'random', 'entropy against a random queue'],
    ['default', 'entropy', 'the default queue against entropy'],
    ['default (true pool labels)', 'default', 'what predicted pool labels cost the default (true minus predicted)'],
    ['targeted-random (true pool labels)', 'targeted-random', 'what predicted pool labels cost targeted-random (true minus predicted)'],
  ] as const;
  const comparisons = pairs.flatMap(([a, b, what]) =>
    (['starvedAfter', 'buggyAfter'] as const).map((measure) => ({ a, b, what, measure, ...comparePaired(of(a, measure), of(b, measure)) })),
  );
  const adjusted = holm(comparisons.map((c) => c.tTestP));
  lines.push(
    '| comparison | measure | mean difference [95% CI] | paired t p | Holm p | Wilcoxon p |',
    '| --- | --- | --- | --- | --- | --- |',
    ...comparisons.map(
      (c, i) =>
        `| ${c.what} | ${c.measure === 'starvedAfter' ? 'Shirt recall' : 'buggy mean recall'} | ${fmt(c.meanDifference)} [${fmt(c.meanDifference - c.ci95)}, ${fmt(c.meanDifference + c.ci95)}] | ` +
        `${fmt(c.tTestP)} | ${fmt(adjusted[i]!)} | ${fmt(c.wilcoxonP)} |`,
    ),
  );
  return { markdown: lines.join('\n') + '\n', comparisons: comparisons.map((c, i) => ({ ...c, pHolm: adjusted[i] })) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '1-5' },
      budget: { type: 'string', default: '1000' },
      out: { type: 'string', default: 'runs/labeling-study' },
      aggregate: { type: 'boolean', default: false },
    },
  });
  const out = path.resolve(values.out);
  const budget = Number(values.budget);
  const [from, to] = values.seeds.split('-').map(Number) as [number, number];
  const seeds = Array.from({ length: (to ?? from) - from + 1 }, (_, i) => from + i);
  mkdirSync(out, { recursive: true });
  if (!values.aggregate) await prepare(out);
  const results: ArmResult[] = [];
  for (const seed of seeds) {
    const file = path.join(out, `seed-${seed}`, 'results.json');
    if (!existsSync(file)) {
      if (values.aggregate) continue;
      const started = performance.now();
      const seedResults = await runSeed(out, seed, budget);
      writeFileSync(file, JSON.stringify(seedResults, null, 2));
      process.stderr.write(`seed ${seed}: ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
    }
    results.push(...(JSON.parse(readFileSync(file, 'utf8')) as ArmResult[]));
  }
  const { markdown, comparisons } = tables(results, budget);
  const resultsDir = path.join(ROOT, 'bench', 'results');
  writeFileSync(path.join(resultsDir, 'labeling-study.md'), markdown);
  writeFileSync(path.join(resultsDir, 'labeling-study.json'), JSON.stringify({ budget, starved: STARVED, results, comparisons }, null, 2));
  process.stdout.write(markdown);
}

await main();
