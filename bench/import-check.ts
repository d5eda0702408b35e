/**
 * Issue 14, first done-when, on a real trained model: a PyTorch CNN exported to ONNX (NCHW, conv,
 * flatten, dense) and the same weights as .keras and .h5 load with `mode eval` and reproduce PyTorch's
 * test accuracy to 0.1 point; `mode analyze` and `mode repair` run on the ONNX model; the pool workflow
 * (`mode select`, a scripted labeler, `mode repair --add`) writes a repaired ONNX model, which
 * onnxruntime runs with our engine's predictions.
 *
 * Every `mode` step runs as a whole CLI process (`node dist/src/cli/main.js --engine ENGINE ...`); the
 * onnxruntime comparison runs here. The models and data come from bench/pytorch-models.py:
 *
 *   /usr/bin/python3 bench/pytorch-models.py runs/pytorch
 *   npx tsc -p tsconfig.json && node dist/bench/import-check.js [--dir runs/pytorch] [--engine torch]
 *
 * Writes bench/results/import-check.md and .json (every figure and command); work folders go under
 * DIR/check/. Exits 1 when a check fails (the report is written first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { argmaxRows, createEngine, loadDataset, loadModelFolder, type EngineName } from '../src/index.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: 'runs/pytorch' },
    engine: { type: 'string', default: 'torch' },
    results: { type: 'string', default: 'bench/results/import-check' },
  },
});
const dir = values.dir;
const engineName = values.engine as EngineName;
const work = path.join(dir, 'check');
const NORMALIZE = 'mean=0.286;std=0.353';
const DATASET = 'fashion-mnist';
const ACCURACY_TOLERANCE = 0.1; // points
const PROBABILITY_TOLERANCE = 1e-4;

interface Reference {
  framework: string;
  normalize: { mean: number; std: number };
  classNames: string[];
  starved: { label: number; keep: number };
  trainSize: number;
  trainCounts: number[];
  poolSize: number;
  poolCounts: number[];
  trainSeconds: number;
  testAccuracy: number;
  testRecall: number[];
  testPredictions: number[];
}
const reference = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

interface Step {
  name: string;
  command: string;
  seconds: number;
  exitCode: number;
}
const steps: Step[] = [];
const failures: string[] = [];

/** Runs `mode ARGS` as its own process; returns stdout (JSON when --json was passed). */
function mode(name: string, args: string[]): string {
  const argv = ['dist/src/cli/main.js', '--engine', engineName, '--quiet', ...args];
  const command = `node ${argv.map((a) => (/^[\w./:=,-]+$/.test(a) ? a : `'${a}'`)).join(' ')}`;
  process.stderr.write(`$ ${command}\n`);
  const started = performance.now();
  const run = spawnSync('node', argv, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const seconds = (performance.now() - started) / 1000;
  const exitCode = run.status ?? -1;
  steps.push({ name, command, seconds: round(seconds, 1), exitCode });
  process.stderr.write(`  ${name}: exit ${exitCode} in ${seconds.toFixed(1)} s\n`);
  if (exitCode !== 0) {
    failures.push(`${name}: exit ${exitCode}: ${run.stderr.trim().split('\n').slice(-3).join(' / ')}`);
    return '';
  }
  return run.stdout;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function readJson<T>(file: string): T | null {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : null;
}

// ----- 1. mode eval on the three files -----
interface EvalJson {
  sets: { test?: { accuracy: number; perLabel: number[]; count: number } };
}
const evals: Record<string, { accuracy: number; differencePoints: number; shirtRecall: number; maxRecallDifferencePoints: number }> = {};
for (const file of ['cnn.onnx', 'cnn.keras', 'cnn.h5']) {
  const out = mode(`eval ${file}`, ['eval', '--model', path.join(dir, file), '--dataset', DATASET, '--normalize', NORMALIZE, '--json']);
  const test = out === '' ? undefined : (JSON.parse(out) as EvalJson).sets.test;
  if (test === undefined) continue;
  const difference = (test.accuracy - reference.testAccuracy) * 100;
  evals[file] = {
    accuracy: test.accuracy,
    differencePoints: round(difference, 3),
    shirtRecall: test.perLabel[reference.starved.label]!,
    maxRecallDifferencePoints: round(Math.max(...test.perLabel.map((r, i) => Math.abs(r - reference.testRecall[i]!) * 100)), 3),
  };
  if (Math.abs(difference) > ACCURACY_TOLERANCE) failures.push(`eval ${file}: ${difference.toFixed(3)} points from PyTorch's`);
}

// ----- 2. mode analyze -----
const analyzeOut = path.join(work, 'analysis');
mode('analyze cnn.onnx', [
  'analyze',
  '--model',
  path.join(dir, 'cnn.onnx'),
  '--dataset',
  DATASET,
  '--normalize',
  NORMALIZE,
  '--out',
  analyzeOut,
]);
interface AnalysisJson {
  bugs: { label: number; kind: string; trainAccuracy: number; validationAccuracy: number }[];
  targets: { label: number; layerName: string; reason: string }[];
}
const analysis = readJson<AnalysisJson>(path.join(analyzeOut, 'analysis.json'));
const analyze =
  analysis === null
    ? null
    : {
        bugs: analysis.bugs.map((b) => ({ ...b, name: reference.classNames[b.label] })),
        targets: analysis.targets.map((t) => ({ label: t.label, layer: t.layerName, reason: t.reason })),
        foundStarved: analysis.bugs.some((b) => b.label === reference.starved.label),
      };
if (analyze !== null && !analyze.foundStarved) failures.push(`analyze did not report label ${reference.starved.label} as buggy`);

// ----- 3. mode repair (the experiment form) -----
const repairOut = path.join(work, 'repair');
const repairStdout = mode('repair cnn.onnx', [
  'repair',
  '--model',
  path.join(dir, 'cnn.onnx'),
  '--dataset',
  DATASET,
  '--normalize',
  NORMALIZE,
  '--iterations',
  '2',
  '--batch',
  '200',
  '--out',
  repairOut,
  '--json',
]);
const repair = repairStdout === '' ? null : (JSON.parse(repairStdout) as { table: unknown }).table;

// ----- 4. the pool workflow: select, a scripted labeler, repair --add -----
const labeled = `npz:${path.join(dir, 'labeled.npz')}`;
const pool = `npz:${path.join(dir, 'pool.npz')}`;
const queueOut = path.join(work, 'queue');
mode('select cnn.onnx', [
  'select',
  '--model',
  path.join(dir, 'cnn.onnx'),
  '--data',
  labeled,
  '--pool',
  pool,
  '--budget',
  '500',
  '--normalize',
  NORMALIZE,
  '--out',
  queueOut,
]);
const hidden = JSON.parse(readFileSync(path.join(dir, 'pool-labels.json'), 'utf8')) as number[];
let select: {
  rows: number;
  picked: number[];
  starvedPicked: number;
  starvedInPool: number;
  servesStarved: number;
  servesStarvedTrulyStarved: number;
} | null = null;
const labelsCsv = path.join(work, 'labels.csv');
if (existsSync(path.join(queueOut, 'queue.csv'))) {
  const [header, ...lines] = readFileSync(path.join(queueOut, 'queue.csv'), 'utf8').trim().split('\n');
  const indexColumn = header!.split(',').indexOf('index');
  const columns = header!.split(',');
  const servesColumn = columns.indexOf('serves');
  const cells = lines.map((l) => l.split(','));
  const indices = cells.map((c) => Number(c[indexColumn]));
  // The picks of the targeted share (the pool has no labels: "Shirt" is the model's most likely Shirts).
  const served = cells.filter((c) => c[servesColumn] === String(reference.starved.label)).map((c) => Number(c[indexColumn]));
  // The labeler: each queued index gets its hidden label.
  writeFileSync(labelsCsv, ['index,label', ...indices.map((i) => `${i},${hidden[i]}`)].join('\n') + '\n');
  const picked = Array.from({ length: 10 }, (_, c) => indices.filter((i) => hidden[i] === c).length);
  select = {
    rows: indices.length,
    picked,
    starvedPicked: picked[reference.starved.label]!,
    starvedInPool: reference.poolCounts[reference.starved.label]!,
    servesStarved: served.length,
    servesStarvedTrulyStarved: served.filter((i) => hidden[i] === reference.starved.label).length,
  };
}
const addOut = path.join(work, 'repaired');
const addStdout = mode('repair --add cnn.onnx', [
  'repair',
  '--model',
  path.join(dir, 'cnn.onnx'),
  '--data',
  labeled,
  '--add',
  labelsCsv,
  '--pool',
  pool,
  '--queue',
  queueOut,
  '--normalize',
  NORMALIZE,
  '--out',
  addOut,
  '--json',
]);
interface AddJson {
  sizes: unknown;
  addedPerLabel: number[];
  before: { validation: { accuracy: number; perLabel: (number | null)[] }; test: { accuracy: number; perLabel: (number | null)[] } | null };
  after: { validation: { accuracy: number; perLabel: (number | null)[] }; test: { accuracy: number; perLabel: (number | null)[] } | null };
  guard: unknown;
  outputs: string[];
}
const add = addStdout === '' ? null : (JSON.parse(addStdout) as AddJson);
if (add !== null && !existsSync(path.join(addOut, 'model.onnx'))) failures.push('repair --add wrote no model.onnx');

// ----- 5. onnxruntime against our engine on the 10,000 test images -----
const test = (await loadDataset(DATASET, { normalize: NORMALIZE })).test!;
const count = test.count;
// One channel: [N, 28, 28, 1] channels last is [N, 1, 28, 28] channels first, value for value.
const nchw = test.x;
const engine = await createEngine(engineName, { threads: 2 });

async function ortProbabilities(file: string, softmax: boolean): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 2 });
  const out = new Float32Array(count * 10);
  const batch = 1000;
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    const x = new ort.Tensor('float32', nchw.subarray(i * 784, (i + n) * 784), [n, 1, 28, 28]);
    const y = (await session.run({ [session.inputNames[0]!]: x }))[session.outputNames[0]!]!.data as Float32Array;
    out.set(y, i * 10);
  }
  if (softmax) {
    for (let r = 0; r < count; r++) {
      const row = out.subarray(r * 10, r * 10 + 10);
      const max = Math.max(...row);
      let sum = 0;
      for (let j = 0; j < 10; j++) sum += row[j] = Math.exp(row[j]! - max);
      for (let j = 0; j < 10; j++) row[j]! /= sum;
    }
  }
  return out;
}

async function ours(modelPath: string): Promise<Float32Array> {
  const { model } = await loadModelFolder(modelPath, engine);
  try {
    return await model.predict(nchw, count);
  } finally {
    model.dispose();
  }
}

function compare(theirs: Float32Array, mine: Float32Array) {
  let maxAbs = 0;
  for (let i = 0; i < theirs.length; i++) maxAbs = Math.max(maxAbs, Math.abs(theirs[i]! - mine[i]!));
  const a = argmaxRows(theirs, 10);
  const b = argmaxRows(mine, 10);
  let agree = 0;
  let theirsCorrect = 0;
  let oursCorrect = 0;
  for (let i = 0; i < count; i++) {
    if (a[i] === b[i]) agree++;
    if (a[i] === test.y[i]) theirsCorrect++;
    if (b[i] === test.y[i]) oursCorrect++;
  }
  return {
    maxAbsDifference: maxAbs,
    argmaxAgreement: agree / count,
    disagreements: count - agree,
    ortAccuracy: theirsCorrect / count,
    oursAccuracy: oursCorrect / count,
  };
}

// The source model: onnxruntime's softmax of PyTorch's logits vs our imported cnn.onnx, and PyTorch's own argmax.
const sourceOrt = await ortProbabilities(path.join(dir, 'cnn.onnx'), true);
const source = compare(sourceOrt, await ours(path.join(dir, 'cnn.onnx')));
const ortArgmax = argmaxRows(sourceOrt, 10);
const ortVsPytorch = ortArgmax.filter((v, i) => v === reference.testPredictions[i]).length / count;
if (source.maxAbsDifference > PROBABILITY_TOLERANCE) failures.push(`cnn.onnx: ORT vs ours max abs difference ${source.maxAbsDifference}`);
// The repaired model: r/model.onnx in onnxruntime (it ends in Softmax) vs our engine on r/model.
let repaired: ReturnType<typeof compare> | null = null;
if (existsSync(path.join(addOut, 'model.onnx'))) {
  repaired = compare(await ortProbabilities(path.join(addOut, 'model.onnx'), false), await ours(path.join(addOut, 'model')));
  if (repaired.maxAbsDifference > PROBABILITY_TOLERANCE)
    failures.push(`repaired model.onnx: ORT vs ours max abs difference ${repaired.maxAbsDifference}`);
}

// ----- the report -----
const pct = (v: number | null | undefined, d = 2) => (v === null || v === undefined ? '-' : (v * 100).toFixed(d));
const result = {
  date: new Date().toISOString(),
  engine: engine.info,
  host: { cpus: os.cpus().length, loadAverage: os.loadavg()[0] },
  dir,
  normalize: NORMALIZE,
  tolerances: { accuracyPoints: ACCURACY_TOLERANCE, probability: PROBABILITY_TOLERANCE },
  reference: { ...reference, testPredictions: undefined },
  eval: evals,
  analyze,
  repair,
  select,
  repairAdd: add === null ? null : { ...add },
  onnxruntime: { source: { ...source, ortVsPytorchArgmaxAgreement: ortVsPytorch }, repaired },
  steps,
  failures,
  passed: failures.length === 0,
};

writeFileSync(`${values.results}.json`, JSON.stringify(result, null, 2) + '\n');

const names = reference.classNames;
const s = reference.starved.label;
const md: string[] = [
  '# Import check: a PyTorch CNN through mode (issue 14)',
  '',
  `${result.date}, engine ${engineName}, ${os.cpus().length} CPUs (load average ${os.loadavg()[0]?.toFixed(1)}). ` +
    'Made by `/usr/bin/python3 bench/pytorch-models.py runs/pytorch && node dist/bench/import-check.js --dir runs/pytorch`.',
  '',
  `Model: PyTorch (${reference.framework}) conv(1->16, 3, pad 1) relu maxpool2, conv(16->32, 3) relu maxpool2, flatten, ` +
    `linear(1152->64) relu, linear(64->10), trained on ${reference.trainSize} Fashion-MNIST training images with label ${s} ` +
    `(${names[s]}) starved to ${reference.trainCounts[s]} images (${reference.starved.keep * 100}%), ` +
    `inputs (x/255 - ${reference.normalize.mean}) / ${reference.normalize.std}; training took ${reference.trainSeconds} s.`,
  '',
  `## mode eval (test, 10,000 images; PyTorch ${pct(reference.testAccuracy)}%, ${names[s]} recall ${pct(reference.testRecall[s], 1)}%)`,
  '',
  '| file | mode test accuracy | difference (points) | max per-label recall difference (points) | ' + `${names[s]} recall |`,
  '| --- | --- | --- | --- | --- |',
  ...Object.entries(evals).map(
    ([f, e]) =>
      `| ${f} | ${pct(e.accuracy)}% | ${e.differencePoints.toFixed(3)} | ${e.maxRecallDifferencePoints.toFixed(3)} | ${pct(e.shirtRecall, 1)}% |`,
  ),
  '',
  '## mode analyze (cnn.onnx, --dataset fashion-mnist)',
  '',
  'With `--dataset fashion-mnist` and a model of no manifest, analyze and repair split the 60,000 training images ' +
    "as mode's defaults (train 30,000 / validation 5,000 / pool 25,000, seed 1), not as the model was trained: " +
    'most of those images were in its training data, except the Shirts (2% kept) and the 5,000 held out for pool.npz. ' +
    'Test is the 10,000 test images.',
  '',
  ...(analyze === null
    ? ['failed']
    : [
        ...analyze.bugs.map(
          (b) =>
            `- bug: label ${b.label} (${b.name}), ${b.kind}, train ${pct(b.trainAccuracy, 1)}%, validation ${pct(b.validationAccuracy, 1)}%`,
        ),
        ...analyze.targets.map((t) => `- target of label ${t.label}: layer ${t.layer} (${t.reason})`),
      ]),
  '',
  '## mode repair (cnn.onnx, --iterations 2 --batch 200)',
  '',
  '```json',
  JSON.stringify(repair, null, 1),
  '```',
  '',
  '## mode select + labeler + mode repair --add (cnn.onnx, npz labeled data and pool)',
  '',
  "labeled.npz: the model's own training images (split 80/20 into train and validation by select and repair --add, " +
    'seed 1) and the 10,000 test images; pool.npz: the 5,000 held-out training images without labels; the labeler ' +
    'answers each queued index with its hidden label.',
  '',
  ...(select === null
    ? ['select failed']
    : [
        `- queue: ${select.rows} pool inputs; hidden labels of the picks: ${select.picked.join(', ')} (label 0..9); ` +
          `${names[s]}: ${select.starvedPicked} picked of ${select.starvedInPool} in the pool of ${reference.poolSize}`,
        `- the targeted share: ${select.servesStarved} picks serve ${names[s]} (the pool's labels read from predictions), ` +
          `${select.servesStarvedTrulyStarved} of them truly ${names[s]}`,
      ]),
  ...(add === null
    ? ['- repair --add failed']
    : [
        `- validation accuracy ${pct(add.before.validation.accuracy)}% -> ${pct(add.after.validation.accuracy)}%, ` +
          `${names[s]} ${pct(add.before.validation.perLabel[s], 1)}% -> ${pct(add.after.validation.perLabel[s], 1)}%`,
        `- test accuracy ${pct(add.before.test?.accuracy)}% -> ${pct(add.after.test?.accuracy)}%, ` +
          `${names[s]} ${pct(add.before.test?.perLabel[s], 1)}% -> ${pct(add.after.test?.perLabel[s], 1)}%`,
        `- outputs: ${add.outputs.join(', ')}; guard ${JSON.stringify(add.guard)}`,
      ]),
  '',
  '## onnxruntime-node vs our engine (10,000 test images, NCHW, normalised alike)',
  '',
  '| model | max abs probability difference | argmax agreement | ORT accuracy | our accuracy |',
  '| --- | --- | --- | --- | --- |',
  `| cnn.onnx (ORT: softmax of PyTorch's logits; ours: the import) | ${source.maxAbsDifference.toExponential(2)} | ${pct(source.argmaxAgreement)}% | ${pct(source.ortAccuracy)}% | ${pct(source.oursAccuracy)}% |`,
  ...(repaired === null
    ? []
    : [
        `| repaired model.onnx (ORT) vs repaired model/ (ours) | ${repaired.maxAbsDifference.toExponential(2)} | ${pct(repaired.argmaxAgreement)}% | ${pct(repaired.ortAccuracy)}% | ${pct(repaired.oursAccuracy)}% |`,
      ]),
  '',
  `ORT's argmax on cnn.onnx agrees with PyTorch's own predictions on ${pct(ortVsPytorch)}% of the test images.`,
  '',
  '## Commands',
  '',
  ...steps.map((st) => `- ${st.name} (exit ${st.exitCode}, ${st.seconds} s): \`${st.command}\``),
  '',
  failures.length === 0 ? 'All checks passed.' : `Failures:\n\n${failures.map((f) => `- ${f}`).join('\n')}`,
  '',
];
writeFileSync(`${values.results}.md`, md.join('\n'));
process.stdout.write(md.join('\n'));
if (failures.length > 0) process.exitCode = 1;
