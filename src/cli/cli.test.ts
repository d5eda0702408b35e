/** End-to-end tests of the `mode` command on small synthetic data and tiny IDX fixtures. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { computeTunables } from '../core/process-env.js';
import { writeIdx } from '../data/index.js';
import { torchUnavailable } from '../engine/index.js';
import { cliHarness } from './cli-harness.js';

const { tmp, mode, modeAsIs } = cliHarness('mode-cli-');

const SYNTH = 'synthetic:classes=3,size=8,n=900';
const small = [
  '--dataset',
  SYNTH,
  '--model',
  'mlp',
  '--epochs',
  '3',
  '--train-size',
  '500',
  '--validation-size',
  '100',
  '--pool-size',
  '150',
];

test('train writes a model folder, and the same seed gives the same metrics.json', async () => {
  const a = mode('train', ...small, '--seed', '7', '--out', 'a');
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stderr, /seed 7/);
  for (const f of ['model.json', 'weights.bin', 'manifest.json', 'metrics.json']) assert.ok(existsSync(path.join(tmp, 'a', f)), f);
  const metrics = JSON.parse(readFileSync(path.join(tmp, 'a', 'metrics.json'), 'utf8'));
  assert.ok(metrics.test.accuracy > 0.9, `test accuracy ${metrics.test.accuracy}`);
  assert.equal(metrics.test.perLabel.length, 3);
  const manifest = JSON.parse(readFileSync(path.join(tmp, 'a', 'manifest.json'), 'utf8'));
  assert.equal(manifest.config.seed, 7);
  assert.equal(manifest.engine.name, 'tfjs-wasm');
  assert.ok(manifest.seeds.init > 0 && manifest.timings.train > 0);
  // mode restarts itself with a compute process's memory settings where Node has process.execve (22.15 and later).
  const restarts = process.platform === 'linux' && 'execve' in process;
  assert.equal(manifest.environment.glibcTunables, restarts ? computeTunables(process.env) : (process.env['GLIBC_TUNABLES'] ?? null));
  const b = mode('train', ...small, '--seed', '7', '--out', 'b', '--quiet');
  assert.equal(b.status, 0, b.stderr);
  assert.equal(readFileSync(path.join(tmp, 'b', 'metrics.json'), 'utf8'), readFileSync(path.join(tmp, 'a', 'metrics.json'), 'utf8'));
  // Without --engine: auto, which is torch where its addon loads and wasm elsewhere; the manifest says which ran.
  const c = modeAsIs('train', ...small, '--seed', '7', '--out', 'c', '--quiet');
  assert.equal(c.status, 0, c.stderr);
  const auto = JSON.parse(readFileSync(path.join(tmp, 'c', 'manifest.json'), 'utf8'));
  assert.equal(auto.config.engine, 'auto');
  assert.equal(auto.engine.name, (await torchUnavailable()) === null ? 'torch' : 'tfjs-wasm');
});

test('train --json prints machine-readable results; eval prints per-label accuracy and the confusion matrix', () => {
  const t = mode('train', ...small, '--starve', '1:0.1', '--out', 'j', '--json', '--quiet');
  assert.equal(t.status, 0, t.stderr);
  const result = JSON.parse(t.stdout);
  assert.deepEqual(result.manifest.data.scenarios, ['starve 1:0.1']);
  assert.ok(result.manifest.data.trainCountsPerLabel[1] < result.manifest.data.trainCountsPerLabel[0] / 5);
  const e = mode('eval', '--model', 'j');
  assert.equal(e.status, 0, e.stderr);
  assert.match(e.stdout, /validation acc %/);
  assert.match(e.stdout, /confusion matrix/);
  const ej = mode('eval', '--model', 'j', '--json', '--quiet');
  assert.deepEqual(JSON.parse(ej.stdout).sets.test, result.metrics.test);
});

test('analyze writes analysis.json, heat map sheets and the layer chart, and prints the probe table', () => {
  const tooSmall = mode('train', ...small, '--model', 'cnn', '--out', 'an-model', '--quiet');
  assert.equal(tooSmall.status, 1);
  assert.match(
    tooSmall.stderr,
    /layer maxPool2d_3 would output \[0, 0, 32\]: inputs of shape \[8, 8, 1\] are too small for this architecture/,
  );
  const trained = mode(
    'train',
    ...small,
    '--dataset',
    'synthetic:classes=3,size=16,n=900,noise=1',
    '--model',
    'cnn',
    '--out',
    'an-model',
    '--quiet',
  );
  assert.equal(trained.status, 0, trained.stderr);
  const r = mode('analyze', '--model', 'an-model', '--theta', '1', '--out', 'an', '--quiet');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /probe\s+features/);
  assert.match(r.stdout, /conv2d_0/);
  const analysis = JSON.parse(readFileSync(path.join(tmp, 'an', 'analysis.json'), 'utf8'));
  assert.equal(analysis.kind, 'mode-analysis');
  assert.deepEqual(
    analysis.probes.map((p: { name: string }) => p.name),
    ['conv2d_0', 'maxPool2d_1', 'conv2d_2', 'maxPool2d_3', 'dense_5'],
  );
  // theta 1 flags every label short of perfect, and each flagged label has a target and maps.
  assert.ok(analysis.targets.length >= 1);
  assert.equal(analysis.maps.length, analysis.targets.length);
  const maps = analysis.maps[0];
  assert.equal(
    maps.maps.hc.length,
    maps.shape.reduce((a: number, b: number) => a * b, 1),
  );
  for (const f of ['layers.png', `label-${maps.label}-sheet.png`, `label-${maps.label}-dhm.png`])
    assert.ok(existsSync(path.join(tmp, 'an', f)), f);
  const again = mode(
    'analyze',
    '--model',
    'an-model',
    '--theta',
    '1',
    '--out',
    'an2',
    '--quiet',
    '--heatmap',
    'input-mean',
    '--layer-selection',
    'none',
    '--json',
  );
  assert.equal(again.status, 0, again.stderr);
  const json = JSON.parse(again.stdout);
  assert.ok(json.targets.every((t: { layerName: string }) => t.layerName === 'dense_5'));
  assert.deepEqual(JSON.parse(readFileSync(path.join(tmp, 'an2', 'analysis.json'), 'utf8')).maps[0].shape, [16, 16, 1]);
});

test("repair writes repair.json with the slides' row per strategy and the control; the same seed gives the same repair.json", () => {
  const args = [
    'repair',
    '--model',
    'j',
    '--batch',
    '20',
    '--iterations',
    '2',
    '--theta',
    '1',
    '--strategy',
    'mode',
    '--compare',
    'targeted-random,entropy,mode:dhm:least:euclidean:activation:sample',
    '--quiet',
  ];
  const r = mode(...args, '--out', 'rep1');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Initial Acc\s+Final Acc\s+Control Acc\s+Finished Early\s+Diff I-F\s+Diff F-C/);
  const repair = JSON.parse(readFileSync(path.join(tmp, 'rep1', 'repair.json'), 'utf8'));
  assert.equal(repair.kind, 'mode-repair');
  assert.deepEqual(
    repair.table.map((row: { strategy: string }) => row.strategy),
    ['mode:hc:least:cosine:importance:top', 'targeted-random', 'entropy', 'mode:dhm:least:euclidean:activation:sample', 'control'],
  );
  const arm = repair.arms[0];
  const first = arm.iterations[0];
  assert.equal(first.selected.indices.length, 20);
  assert.equal(first.selected.targeted.filter((t: number) => t === 1).length, 5);
  assert.equal(first.target.label, 1, 'the starved label is the target');
  assert.ok(first.target.layer === 'dense_1' || first.target.layer === 'dense_2');
  assert.ok(first.shareAlreadyCorrect >= 0 && first.shareAlreadyCorrect <= 1);
  assert.equal(first.validation.perLabel.length, 3);
  const control = repair.arms.at(-1);
  assert.equal(control.iterations.length, 2);
  assert.ok(control.iterations.every((it: { selected: { indices: number[] } }) => it.selected.indices.length === 20));
  const again = mode(...args, '--out', 'rep2');
  assert.equal(again.status, 0, again.stderr);
  assert.equal(readFileSync(path.join(tmp, 'rep2', 'repair.json'), 'utf8'), readFileSync(path.join(tmp, 'rep1', 'repair.json'), 'utf8'));
  assert.ok(existsSync(path.join(tmp, 'rep1', 'manifest.json')));
});

/** An idx:DIR folder with 4x4 images; `damage` breaks one thing. */
function idxFolder(name: string, damage: (dir: string) => void = () => {}): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const n = 60;
  const images = new Uint8Array(n * 16).map((_, i) => (i * 37) % 256);
  const labels = new Uint8Array(n).map((_, i) => i % 3);
  writeIdx(path.join(dir, 'train-images-idx3-ubyte'), [n, 4, 4], images);
  writeIdx(path.join(dir, 'train-labels-idx1-ubyte'), [n], labels);
  damage(dir);
  return `idx:${dir}`;
}

const BAD_INPUT: { name: string; args: () => string[]; error: RegExp; status: number }[] = [
  { name: 'unknown option', args: () => ['train', '--bogus', '--out', 'x'], error: /unknown option '--bogus'/, status: 2 },
  { name: 'unknown command', args: () => ['frob'], error: /unknown command 'frob'/, status: 2 },
  {
    name: 'unknown dataset',
    args: () => ['train', '--dataset', 'cifar', '--out', 'x'],
    error: /unknown dataset 'cifar': must be one of \[mnist, fashion-mnist/,
    status: 2,
  },
  {
    name: 'unknown model',
    args: () => ['train', '--model', 'resnet', '--out', 'x'],
    error: /unknown model 'resnet': must be one of \[mlp, cnn, lenet/,
    status: 2,
  },
  { name: 'bad number', args: () => ['train', '--epochs', 'many', '--out', 'x'], error: /--epochs must be an integer/, status: 2 },
  {
    name: 'bad normalisation',
    args: () => ['train', '--normalize', 'mean=0.5;std=0', '--out', 'x'],
    error: /bad normalisation 'mean=0\.5;std=0': std 0 must be > 0/,
    status: 2,
  },
  {
    name: 'normalisation of 3 channels on grey data',
    args: () => ['train', '--dataset', SYNTH, '--normalize', 'mean=0.5,0.5,0.5;std=0.2', '--out', 'x'],
    error: /normalisation mean=0\.5,0\.5,0\.5;std=0\.2 has 3 values per channel but the inputs have 1 channel/,
    status: 1,
  },
  {
    name: 'NaN learning rate',
    args: () => ['train', '--learning-rate', 'NaN', '--out', 'x'],
    error: /--learning-rate must be a number/,
    status: 2,
  },
  {
    name: 'bad scenario',
    args: () => ['train', '--starve', '3,8:1.5', '--out', 'x'],
    error: /--starve '3,8:1.5': fraction must be in \[0, 1\]/,
    status: 2,
  },
  { name: 'missing --out', args: () => ['train'], error: /missing --out/, status: 2 },
  {
    name: 'truncated IDX file',
    args: () => [
      'train',
      '--dataset',
      idxFolder('trunc', (d) =>
        writeFileSync(path.join(d, 'train-images-idx3-ubyte'), readFileSync(path.join(d, 'train-images-idx3-ubyte')).subarray(0, 100)),
      ),
      '--out',
      'x',
    ],
    error: /truncated/i,
    status: 1,
  },
  {
    name: 'wrong magic number',
    args: () => [
      'train',
      '--dataset',
      idxFolder('magic', (d) => {
        const f = path.join(d, 'train-labels-idx1-ubyte');
        const b = readFileSync(f);
        b[0] = 7;
        writeFileSync(f, b);
      }),
      '--out',
      'x',
    ],
    error: /magic/i,
    status: 1,
  },
  {
    name: 'label count differs from image count',
    args: () => [
      'train',
      '--dataset',
      idxFolder('count', (d) => writeIdx(path.join(d, 'train-labels-idx1-ubyte'), [59], new Uint8Array(59))),
      '--out',
      'x',
    ],
    error: /59 labels|60 images/,
    status: 1,
  },
  {
    name: 'label outside the class range',
    args: () => [
      'train',
      '--dataset',
      idxFolder('range', (d) => {
        writeFileSync(path.join(d, 'classes.txt'), 'a\nb\nc\n');
        writeIdx(
          path.join(d, 'train-labels-idx1-ubyte'),
          [60],
          new Uint8Array(60).map((_, i) => (i === 5 ? 7 : i % 3)),
        );
      }),
      '--out',
      'x',
    ],
    error: /label 7 .*outside|outside.*7/,
    status: 1,
  },
  {
    name: 'architecture spec with a bad layer',
    args: () => {
      writeFileSync(path.join(tmp, 'bad.json'), JSON.stringify({ layers: [{ type: 'flatten' }, { type: 'dense', units: -4 }] }));
      return ['train', '--dataset', SYNTH, '--model', 'bad.json', '--out', 'x-arch'];
    },
    error: /bad\.json: bad architecture spec at layers\.1\.units/,
    status: 2,
  },
  {
    name: 'analyze: unknown heat map variant',
    args: () => ['analyze', '--model', 'a', '--heatmap', 'mean', '--out', 'x'],
    error: /unknown heat map variant 'mean': must be one of \[importance, weights, activation, input-mean\]/,
    status: 2,
  },
  {
    name: 'analyze: unknown layer selection',
    args: () => ['analyze', '--model', 'a', '--layer-selection', 'first', '--out', 'x'],
    error: /unknown layer selection 'first'/,
    status: 2,
  },
  {
    name: 'analyze: theta out of range',
    args: () => ['analyze', '--model', 'a', '--theta', '2', '--out', 'x'],
    error: /--theta '2'/,
    status: 2,
  },
  {
    name: 'analyze: missing model folder',
    args: () => ['analyze', '--model', 'nope', '--out', 'x'],
    error: /model folder 'nope' does not exist/,
    status: 1,
  },
  {
    name: 'analyze: corrupt model folder',
    args: () => {
      mkdirSync(path.join(tmp, 'corrupt'), { recursive: true });
      writeFileSync(path.join(tmp, 'corrupt', 'model.json'), '{"modelTopology": {');
      return ['analyze', '--model', 'corrupt', '--dataset', SYNTH, '--out', 'x'];
    },
    error: /corrupt[/\\]model\.json is not valid JSON/,
    status: 1,
  },
  {
    name: 'analyze: dataset that does not fit the model',
    args: () => ['analyze', '--model', 'a', '--dataset', 'synthetic:size=6,n=900', '--out', 'x'],
    error: /inputs of shape \[6, 6, 1\] but the model expects \[8, 8, 1\]/,
    status: 1,
  },
  {
    name: 'repair: unknown metric',
    args: () => ['repair', '--model', 'a', '--metric', 'cosinus', '--out', 'x'],
    error: /unknown metric 'cosinus': must be one of \[dot, cosine, manhattan/,
    status: 2,
  },
  {
    name: 'repair: unknown map',
    args: () => ['repair', '--model', 'a', '--map', 'heat', '--out', 'x'],
    error: /unknown map 'heat': must be one of \[hc, hm, hw, dhc, dhm, dhw, contrast\]/,
    status: 2,
  },
  {
    name: 'repair: unknown strategy',
    args: () => ['repair', '--model', 'a', '--strategy', 'greedy', '--out', 'x'],
    error: /unknown strategy 'greedy': must be one of \[mode, random, targeted-random/,
    status: 2,
  },
  {
    name: 'repair: unknown strategy to compare',
    args: () => ['repair', '--model', 'a', '--compare', 'random,lucky', '--out', 'x'],
    error: /unknown strategy 'lucky'/,
    status: 2,
  },
  {
    name: 'repair: alpha outside [0, 1]',
    args: () => ['repair', '--model', 'a', '--alpha', '1.5', '--out', 'x'],
    error: /--alpha must be a number in \[0, 1\]/,
    status: 2,
  },
  {
    name: 'repair: budget larger than the pool',
    args: () => ['repair', '--model', 'a', '--batch', '100', '--iterations', '2', '--out', 'x'],
    error: /budget of 2 iterations x batch 100 = 200 inputs is larger than the pool \(150\)/,
    status: 2,
  },
  {
    name: 'repair: model that does not match the dataset',
    args: () => ['repair', '--model', 'a', '--dataset', 'synthetic:classes=3,size=6,n=900', '--out', 'x'],
    error: /but the model expects \[8, 8, 1\]/,
    status: 1,
  },
  {
    name: 'eval of a missing model folder',
    args: () => ['eval', '--model', 'nope'],
    error: /model folder 'nope' does not exist/,
    status: 1,
  },
];

for (const c of BAD_INPUT) {
  test(`bad input gets one clear line and a non-zero exit: ${c.name}`, () => {
    const r = mode(...c.args(), '--quiet');
    assert.equal(r.status, c.status, r.stderr);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !/seed \d+$/.test(l));
    assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
    assert.match(lines[0]!, /^mode: /);
    assert.match(lines[0]!, c.error);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('an existing output folder is refused without --force and kept when a forced run fails', () => {
  assert.equal(mode('train', ...small, '--out', 'keep', '--quiet').status, 0);
  const before = readFileSync(path.join(tmp, 'keep', 'weights.bin'));
  const refused = mode('train', ...small, '--out', 'keep', '--quiet');
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /'keep' already exists; choose another --out or pass --force/);
  writeFileSync(path.join(tmp, 'wide.json'), JSON.stringify({ layers: [{ type: 'conv2d', filters: 2, kernelSize: 50 }] }));
  const failed = mode('train', ...small, '--model', 'wide.json', '--out', 'keep', '--force', '--quiet');
  assert.notEqual(failed.status, 0);
  assert.deepEqual(readFileSync(path.join(tmp, 'keep', 'weights.bin')), before);
  const forced = mode('train', ...small, '--seed', '3', '--out', 'keep', '--force', '--quiet');
  assert.equal(forced.status, 0, forced.stderr);
  assert.notDeepEqual(readFileSync(path.join(tmp, 'keep', 'weights.bin')), before);
});
