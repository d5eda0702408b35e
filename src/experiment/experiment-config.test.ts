/** Experiment configs: validation messages name the field, expansion counts, stable cell keys, presets. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ModeError } from '../core/errors.js';
import { formatStrategy, parseStrategy } from '../select/strategies.js';
import {
  canonicalScenario,
  cellDimensions,
  expandCells,
  parseWhere,
  sliceOfCell,
  loadExperimentConfig,
  parseExperimentConfig,
  repairInputOf,
  seedList,
} from './experiment-config.js';
import { PRESETS, PRESET_NAMES, presetConfig, REPLICATION_METRICS, unavailableDataset } from './presets.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mode-exp-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const bad = (input: unknown, pattern: RegExp): void => {
  assert.throws(
    () => parseExperimentConfig(input, 'exp.json'),
    (error: unknown) => {
      assert.ok(error instanceof ModeError, String(error));
      assert.equal(error.code, 'config');
      assert.match(error.message, pattern);
      return true;
    },
  );
};

test('an invalid config names the field path and the reason', () => {
  bad({ alphas: [0.25, 2] }, /^exp\.json: bad experiment config at alphas\.1: Too big: expected number to be <=1$/);
  bad({ batches: [0] }, /at batches\.0: Too small/);
  bad({ metrics: ['cosine', 'cosinus'] }, /at metrics\.1: Invalid option: expected one of "dot"\|"cosine"/);
  bad(
    { strategies: ['targeted-random', 'mode:dhm:sideways'] },
    /at strategies\.1: unknown order 'sideways': must be one of \[most, least\]/,
  );
  bad({ scenarios: ['starve 3,8:1.5'] }, /at scenarios\.0: .*1\.5/);
  bad({ scenarios: ['starv 3:0.1'] }, /at scenarios\.0: scenario 'starv 3:0\.1': expected KIND TEXT/);
  bad({ models: ['mlp', 'resnet'] }, /at models\.1: unknown model 'resnet'/);
  bad({ datasets: ['cifar'] }, /at datasets\.0: unknown dataset 'cifar'/);
  bad({ seeds: 'five' }, /at seeds: expected a seed count/);
  bad({ seeds: [1, -2] }, /at seeds\.1: Too small/);
  bad({ layerSelections: [] }, /at layerSelections: must list at least one value/);
  bad({ trainSizes: [{ train: 100, test: 5 }] }, /at trainSizes\.0: Unrecognized key: "test"/);
  bad({ alpha: 0.5 }, /at \(top level\): Unrecognized key: "alpha"/);
  bad({ classSubsets: [1] }, /at classSubsets\.0: Too small: expected number to be >=2/);
  bad({ classSubsets: [[3, 5, 3]] }, /at classSubsets\.0: a label is listed twice$/);
  bad({ classSubsets: [[3]] }, /at classSubsets\.0: a list of labels must name at least 2$/);
  bad({ classSubsets: [[3, -1]] }, /at classSubsets\.0\.1: Too small: expected number to be >=0/);
  bad(
    { classSubsets: ['3/5'] },
    /at classSubsets\.0: expected a class count \(an integer >= 2\), a list of at least 2 distinct labels, or null/,
  );
});

test('config files: YAML and JSON, scalars read as lists of one; unreadable and malformed files are refused', () => {
  const yaml = path.join(tmp, 'e.yaml');
  writeFileSync(yaml, 'name: e\nstrategies: [mode, targeted-random]\nbatches: 20\nseeds: [3, 4]\n');
  const config = loadExperimentConfig(yaml);
  assert.deepEqual(config.batches, [20]);
  assert.deepEqual(seedList(config.seeds), [3, 4]);
  assert.equal(config.name, 'e');
  const json = path.join(tmp, 'e.json');
  writeFileSync(json, '{ "alphas": 0.5, "seeds": 2 }');
  assert.deepEqual(loadExperimentConfig(json).alphas, [0.5]);
  assert.deepEqual(seedList(loadExperimentConfig(json).seeds), [1, 2]);
  writeFileSync(json, '{ "alphas": [0.5, }');
  assert.throws(() => loadExperimentConfig(json), /e\.json: not valid JSON/);
  const wrong = path.join(tmp, 'wrong.yml');
  writeFileSync(wrong, 'batches: [20, -1]\n');
  assert.throws(() => loadExperimentConfig(wrong), /wrong\.yml: bad experiment config at batches\.1: Too small/);
  assert.throws(() => loadExperimentConfig(path.join(tmp, 'missing.yaml')), /cannot read experiment config .*missing\.yaml.*ENOENT/);
});

test('scenarios: text and object forms are the same scenario', () => {
  assert.deepEqual(canonicalScenario('none'), {});
  assert.deepEqual(canonicalScenario('noise 5:0.3; starve 3,8:0.02'), { starve: '3,8:0.02', noise: '5:0.3' });
  assert.deepEqual(canonicalScenario({ noise: '5:0.3', starve: '3,8:0.02' }), canonicalScenario('starve 3,8:0.02; noise 5:0.3'));
});

test('expansion: the grid in a fixed order, settings that do not apply collapse, models are shared', () => {
  const config = parseExperimentConfig({
    strategies: ['mode:dhm', 'targeted-random', 'entropy'],
    metrics: ['cosine', 'euclidean'],
    layerSelections: ['saturation', 'none'],
    alphas: [0.25, 0.5],
    batches: [200, 2000],
    seeds: 3,
    models: ['mlp', 'cnn'],
  });
  const cells = expandCells(config);
  // per model and seed: mode 2 metrics x 2 rules x 2 alphas x 2 batches = 16; targeted-random 2 alphas x 2 batches = 4
  // (no layer selection, no metric); entropy 2 batches = 2 (untargeted: no alpha either).
  assert.equal(cells.length, 2 * 3 * (16 + 4 + 2));
  assert.equal(new Set(cells.map((c) => c.key)).size, cells.length, 'keys are unique');
  assert.equal(new Set(cells.map((c) => c.modelKey)).size, 2 * 3, 'one initial model per model and seed');
  const entropy = cells.filter((c) => c.config.strategy === 'entropy');
  assert.ok(entropy.every((c) => c.config.layerSelection === null && c.config.alpha === null));
  assert.equal(cellDimensions(entropy[0]!).metric, null);
  assert.deepEqual(
    cells.map((c) => c.key),
    expandCells(config).map((c) => c.key),
    'deterministic order',
  );
  // a metric written in the strategy text wins over the metrics axis, and the duplicate disappears
  const pinned = expandCells(parseExperimentConfig({ strategies: ['mode:dhm:most:dot'], metrics: ['cosine', 'euclidean'], seeds: 1 }));
  assert.deepEqual(
    pinned.map((c) => c.config.strategy),
    ['mode:dhm:most:dot:importance:top'],
  );
  assert.equal(repairInputOf(entropy[0]!).compare?.length, 0);
});

test('cell keys are stable: derived from the resolved settings only', () => {
  const a = expandCells(parseExperimentConfig({ strategies: ['mode'], batches: [20], seeds: [7], scenarios: ['starve 3,8:0.02'] }));
  const resolved = formatStrategy(parseStrategy('mode'));
  const b = expandCells(
    parseExperimentConfig({ seeds: [7], scenarios: [{ starve: '3,8:0.02' }], batches: 20, strategies: resolved, name: 'other' }),
  );
  assert.equal(a.length, 1);
  assert.equal(a[0]!.key, b[0]!.key, 'same settings written differently, same key');
  const c = expandCells(
    parseExperimentConfig({ strategies: ['mode'], batches: [20], seeds: [7], scenarios: ['starve 3,8:0.02'], alphas: [0.3] }),
  );
  assert.notEqual(c[0]!.key, a[0]!.key);
  assert.equal(c[0]!.modelKey, a[0]!.modelKey, 'alpha does not change the initial model');
  // Golden keys of a cell with every setting written out (sha256 of the canonical JSON of the resolved
  // cell, first 16 hex digits): a change here means existing stores no longer recognise their cells.
  // Changed with store schema 3, whose cells record headRowsPerLabel (the model key did not change; schema 4 changed neither).
  const pinned = expandCells(
    parseExperimentConfig({
      datasets: 'mnist',
      classSubsets: null,
      scenarios: 'starve 3,8:0.02',
      models: 'mlp',
      trainSizes: {},
      epochs: 3,
      seeds: [7],
      strategies: 'mode:contrast:most:cosine:importance:top',
      layerSelections: 'saturation',
      alphas: 0.25,
      batches: 20,
      iterations: 5,
      retrain: 'cumulative',
      fineTuneEpochs: 2,
      theta: 0.92,
      gamma: 0.1,
      earlyStop: true,
      layerOnce: false,
    }),
  );
  assert.equal(pinned[0]!.key, 'dafb2c89c6bf6934');
  assert.equal(pinned[0]!.modelKey, 'f1cafbae0c5950ac');
});

test("presets parse and expand to the issue's grids; --seeds replaces the seed count", () => {
  for (const name of PRESET_NAMES) assert.doesNotThrow(() => parseExperimentConfig(presetConfig(name), name), name);
  const replication = expandCells(parseExperimentConfig(presetConfig('replication')));
  assert.equal(replication.length, REPLICATION_METRICS.length * 2 * 2 * 5);
  assert.ok(
    replication.every((c) => c.config.model === 'mlp28' && c.config.batch === 2000 && c.config.alpha === 0.25 && c.config.theta === 0.92),
  );
  assert.deepEqual(replication[0]!.config.sizes, { train: 25000, validation: 5000, pool: 30000 });
  assert.equal(new Set(replication.map((c) => c.modelKey)).size, 5, 'one model per seed');
  const buggy = expandCells(parseExperimentConfig({ ...presetConfig('buggy'), seeds: 2 }));
  assert.equal(buggy.length, 2 * 2 * 2 * PRESETS.buggy.strategies.length * 2);
  const ratio = expandCells(parseExperimentConfig(presetConfig('ratio')));
  assert.equal(ratio.length, 3 * 5 * 2 * 10);
  // Every subset starts with the starved digit 3, which the scenario starves as the subset's label 0.
  assert.deepEqual([...new Set(ratio.map((c) => cellDimensions(c).classSubset))], ['3/5', '3/5/8/2/9', '3/5/8/2/9/7/1/0/4/6']);
  assert.ok(
    ratio.every((c) => Array.isArray(c.config.classSubset) && c.config.classSubset[0] === 3 && c.config.scenario.starve === '0:0.02'),
  );
  // A count keeps the model key it had before lists were allowed (commit 65c4b52); the cell key changed
  // with store schema 3 (headRowsPerLabel), whose stores hold only cells of that version.
  const counted = expandCells(parseExperimentConfig({ classSubsets: [2, [1, 0]], seeds: 1 }));
  assert.deepEqual(
    counted.map((c) => cellDimensions(c).classSubset),
    ['2', '1/0'],
  );
  assert.deepEqual([counted[0]!.modelKey, counted[0]!.key], ['8055f862da26e7a2', 'e7a8e27b72b6086b']);
  assert.notEqual(counted[0]!.modelKey, counted[1]!.modelKey, 'a list is a subset of its own');
  // Fashion-MNIST cells are skipped with a note where the Debian package is not installed.
  assert.match(
    unavailableDataset('fashion-mnist', () => false) ?? '',
    /fashion-mnist is not installed \(\/usr\/share\/datasets\/fashion-mnist is absent/,
  );
  assert.equal(
    unavailableDataset('fashion-mnist', () => true),
    null,
  );
  assert.equal(
    unavailableDataset('mnist', () => false),
    null,
  );
  assert.throws(() => presetConfig('replicaton'), /unknown preset 'replicaton': must be one of \[replication, buggy, ratio, benchmark\]/);
});

test('slices: each crosses only its own datasets, scenarios and models; cells know their slice and its role', () => {
  const config = parseExperimentConfig({
    slices: [
      { name: 'dev', role: 'development', datasets: 'mnist', scenarios: 'starve 3:0.1', models: ['mlp', 'cnn'] },
      { name: 'conf', role: 'confirmation', datasets: 'fashion-mnist', models: 'tiny' },
    ],
    seeds: 2,
    strategies: ['random', 'entropy'],
  });
  const cells = expandCells(config);
  // dev: 2 models x 2 seeds x 2 strategies; conf: 1 x 2 x 2. Nothing crosses mnist with tiny, or fashion with a scenario.
  assert.equal(cells.length, 12);
  assert.ok(cells.every((c) => (c.config.dataset === 'mnist') === (c.config.model !== 'tiny')));
  assert.ok(cells.filter((c) => c.config.dataset === 'fashion-mnist').every((c) => Object.keys(c.config.scenario).length === 0));
  assert.deepEqual(
    [...new Set(cells.map((c) => `${sliceOfCell(config, c.config)!.name}:${sliceOfCell(config, c.config)!.role}`))],
    ['dev:development', 'conf:confirmation'],
  );
  assert.throws(
    () =>
      parseExperimentConfig({
        slices: [
          { name: 'a', role: 'development', datasets: 'mnist', models: 'mlp' },
          { name: 'a', role: 'confirmation', datasets: 'mnist', models: 'cnn' },
        ],
      }),
    /slices\.1\.name: slice 'a' is named twice/,
  );
  assert.throws(
    () => parseExperimentConfig({ slices: [{ name: 'a', role: 'testing', datasets: 'mnist', models: 'mlp' }] }),
    /bad experiment config at slices\.0\.role/,
  );
});

test('the benchmark preset: development and confirmation slices, every strategy in every slice, bald left out', () => {
  const config = parseExperimentConfig(presetConfig('benchmark'));
  const cells = expandCells(config);
  const slices = config.slices!;
  assert.ok(slices.some((s) => s.role === 'development') && slices.some((s) => s.role === 'confirmation'));
  for (const slice of slices) {
    const inSlice = cells.filter((c) => sliceOfCell(config, c.config)?.name === slice.name);
    assert.equal(new Set(inSlice.map((c) => c.config.strategy)).size, config.strategies.length, slice.name);
    assert.equal(new Set(inSlice.map((c) => c.config.seed)).size, 10);
  }
  assert.ok(!config.strategies.some((s) => s.startsWith('bald')));
  assert.ok(cells.every((c) => c.config.batch === 200 && !c.config.earlyStop));
});

test("--where slice= picks a benchmark's slices, and a value with commas is taken whole", () => {
  const config = parseExperimentConfig(presetConfig('benchmark'));
  const cells = expandCells(config);
  const development = cells.filter(parseWhere(['slice=mnist-starved,mnist-tiny'], cells, config));
  assert.deepEqual([...new Set(development.map((c) => sliceOfCell(config, c.config)!.name))].sort(), ['mnist-starved', 'mnist-tiny']);
  assert.equal(development.length, 3 * 13 * 10);
  const starved = cells.filter(parseWhere(['scenario=starve 3,8:0.02', 'model=cnn'], cells));
  assert.equal(starved.length, 2 * 13 * 10);
  assert.throws(
    () => parseWhere(['slice=mnist-starve'], cells, config),
    /--where slice=mnist-starve: no cell .* its values: mnist-starved, /,
  );
  assert.throws(() => parseWhere(['slice=mnist-starved'], cells), /unknown --where setting 'slice'/);
});
