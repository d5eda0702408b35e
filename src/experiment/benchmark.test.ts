/** The benchmark's statistics across slices: per-slice Holm families, the best baseline, the ranking across slices, the verdict, the split. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderBenchmark } from '../report/benchmark-table.js';
import { BASELINE_KINDS, finalValues, slicesOfRuns, summarizeBenchmark, type BenchmarkSlice } from './benchmark.js';
import { expandCells, parseExperimentConfig, type Cell } from './experiment-config.js';
import { checkRepairDoc } from './repair-doc.js';
import { benchmarkDoc, BENCHMARK_CONFIG, noise } from './benchmark.fixture.js';
import { summarizeResults, type Tested } from './results.js';
import { formatStrategy, parseStrategy } from '../select/strategies.js';
import { holm } from './statistics.js';
import type { StoredCell } from './store.js';

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

function stored(cell: Cell): StoredCell {
  const result = checkRepairDoc(benchmarkDoc(cell), 'fake');
  return {
    key: cell.key,
    modelKey: cell.modelKey,
    label: cell.label,
    config: cell.config,
    spec: cell.spec,
    result,
    seconds: 1,
    finishedAt: '',
  };
}

const config = parseExperimentConfig(BENCHMARK_CONFIG);
const cells = expandCells(config).map(stored);
/** mode's canonical text (its default settings written out). */
const MODE = formatStrategy(parseStrategy('mode'));
const row = (slice: BenchmarkSlice, strategy: string) => slice.rows.find((r) => r.strategy === (strategy === 'mode' ? MODE : strategy))!;

test('per slice: mean and CI across seeds, three Holm families, the best baseline of each slice', () => {
  assert.equal(cells.length, (1 + 1 + 2) * 4 * 5);
  const summary = summarizeBenchmark(cells, config, { measure: 'accuracy', split: 'test' });
  assert.deepEqual(
    summary.slices.map((s) => [s.name, s.role, s.cells, s.bestBaseline]),
    [
      ['dev-mnist', 'development', 20, 'margin'],
      ['conf-starved', 'confirmation', 20, 'entropy'],
      ['conf-fashion', 'confirmation', 40, 'entropy'],
    ],
  );
  assert.equal(summary.cellsOutsideSlices, 0);
  for (const slice of summary.slices) {
    assert.deepEqual(
      slice.rows.map((r) => [r.strategy, r.group]),
      [
        [MODE, 'informed'],
        ['targeted-random', 'reference'],
        ['entropy', 'baseline'],
        ['margin', 'baseline'],
      ],
      'rows in the order of the strategy table',
    );
    // Each family is Holm-adjusted across the rows that have a comparison in it.
    const families: Record<'vsControl' | 'vsTargetedRandom' | 'vsBestBaseline', readonly (Tested | null)[]> = {
      vsControl: slice.rows.map((r) => r.vsControl),
      vsTargetedRandom: slice.rows.map((r) => r.vsTargetedRandom),
      vsBestBaseline: slice.rows.map((r) => r.vsBestBaseline),
    };
    assert.equal(families.vsControl.length, 4);
    assert.equal(families.vsTargetedRandom.filter((t) => t === null).length, 1, 'targeted-random is not compared with itself');
    assert.equal(row(slice, 'targeted-random').vsTargetedRandom, null);
    assert.equal(row(slice, slice.bestBaseline!).vsBestBaseline, null, 'the best baseline is not compared with itself');
    for (const family of Object.values(families)) {
      const present = family.filter((t): t is Tested => t !== null);
      const adjustedT = holm(present.map((t) => t.comparison.tTestP));
      const adjustedW = holm(present.map((t) => t.comparison.wilcoxonP));
      present.forEach((t, i) => {
        close(t.tTestHolm, adjustedT[i]!);
        close(t.wilcoxonHolm, adjustedW[i]!);
      });
    }
  }
  const fashion = summary.slices[2]!;
  const mode = row(fashion, 'mode');
  assert.deepEqual(mode.seeds, [1, 2, 3, 4, 5]);
  assert.equal(mode.final.n, 5, 'one value per seed: the two models averaged');
  const expected = [1, 2, 3, 4, 5].map((s) => 0.9 + 0.005 + noise('mode', s));
  close(mode.final.mean, expected.reduce((a, b) => a + b) / 5);
  close(
    mode.vsBestBaseline!.comparison.meanDifference,
    0.03 + [1, 2, 3, 4, 5].reduce((a, s) => a + noise('mode', s) - noise('entropy', s), 0) / 5,
  );
  assert.ok(mode.vsBestBaseline!.tTestHolm < 0.01);
  assert.ok(mode.vsBestBaseline!.wilcoxonHolm >= 0.0625, "5 seeds: Wilcoxon's exact p cannot go below 2/32");
  assert.ok(row(fashion, 'margin').vsBestBaseline!.comparison.meanDifference < 0);
  // The test split's accuracy is what results.ts reads for Final (the repair's table).
  const results = summarizeResults(cells, { by: ['strategy'], measure: 'accuracy', reference: null });
  const testFinal = cells.map((c) => finalValues(c, 'accuracy', 'test')!.final);
  cells.forEach((c, i) => close(testFinal[i]!, c.result.table[0]!.finalAcc));
  assert.ok(results.tables.length > 0);
  assert.deepEqual([...BASELINE_KINDS].sort(), [
    'badge',
    'bald',
    'coreset',
    'deepgini',
    'dsa',
    'entropy',
    'least-confidence',
    'margin',
    'targeted-uncertainty',
  ]);
});

test('across slices: mean ranks, Friedman, cliques per role; the verdict on confirmation', () => {
  const summary = summarizeBenchmark(cells, config, { measure: 'accuracy', split: 'test' });
  assert.deepEqual(
    summary.rankings.map((r) => [r.role, r.slices.length]),
    [
      ['development', 1],
      ['confirmation', 2],
      ['all', 3],
    ],
  );
  assert.equal(summary.rankings[0]!.cd, null, 'one block: no ranking');
  const all = summary.rankings[2]!.cd!;
  assert.deepEqual(all.treatments, [MODE, 'entropy', 'margin', 'targeted-random']);
  assert.deepEqual(
    all.meanRanks.map((r) => Number(r.toFixed(4))),
    [1, 2.3333, 2.6667, 4],
  );
  // Friedman by hand: rank sums 3, 7, 8, 12 over 3 blocks of 4: 12 / (3 * 4 * 5) * 266 - 3 * 3 * 5 = 8.2.
  close(all.friedman.statistic, 8.2, 1e-9);
  assert.ok(all.friedman.pValue < 0.05);
  // Three blocks: Wilcoxon's exact p is at least 0.25, so no pair differs and one bar joins them all.
  assert.deepEqual(all.cliques, [[0, 3]]);
  assert.deepEqual(
    summary.verdict.informed.map((v) => [v.strategy, v.wins, v.beats]),
    [[MODE, ['conf-starved', 'conf-fashion'], true]],
  );
  assert.equal(
    summary.verdict.text,
    `${MODE} beats the best baseline (Holm-adjusted paired t p < 0.01) on at least half of the 2 confirmation slices (${MODE} 2/2).`,
  );
  assert.equal(summary.verdict.best!.strategy, MODE);
  assert.equal(summary.verdict.best!.runnerUp, 'entropy');
  const text = renderBenchmark(summary);
  assert.match(text, /== conf-fashion \(confirmation, 40 cells\); best baseline: entropy/);
  assert.match(text, /strategy\s+n\s+Final/);
  assert.match(text, /Friedman/);
  assert.ok(text.includes(`Verdict: ${MODE} beats the best baseline`));
});

test('the split switch: on validation entropy leads, and the verdict says by how much', () => {
  const test_ = summarizeBenchmark(cells, config, { measure: 'accuracy', split: 'test' });
  const validation = summarizeBenchmark(cells, config, { measure: 'accuracy', split: 'validation' });
  assert.equal(validation.split, 'validation');
  assert.deepEqual(
    validation.slices.map((s) => s.bestBaseline),
    ['entropy', 'entropy', 'entropy'],
  );
  close(row(validation.slices[1]!, 'entropy').final.mean, 0.95 + [1, 2, 3, 4, 5].reduce((a, s) => a + noise('entropy', s), 0) / 5);
  // The control arm's values are the same on both splits here (the fixture's validation = test for the control).
  close(row(validation.slices[1]!, 'mode').final.mean, row(test_.slices[1]!, 'mode').final.mean);
  assert.deepEqual(validation.rankings[1]!.cd!.treatments, ['entropy', MODE, 'margin', 'targeted-random']);
  const best = validation.verdict.best!;
  assert.equal(best.strategy, 'entropy');
  assert.equal(best.runnerUp, MODE);
  close(best.meanDifference, 0.05 + [1, 2, 3, 4, 5].reduce((a, s) => a + noise('entropy', s) - noise('mode', s), 0) / 5);
  assert.equal(
    validation.verdict.text,
    'No MODE-informed strategy beats the best baseline (Holm-adjusted paired t p < 0.01) on at least half of the 2 confirmation ' +
      `slices (${MODE} 0/2). Best on confirmation: entropy (mean rank 1.00), +${best.meanDifference.toFixed(4)} over ${MODE} ` +
      '(mean rank 2.00) on average across 2 slices.',
  );
  // The buggy measure reads the buggy label's recall on the same split: 0.3 below.
  const buggy = summarizeBenchmark(cells, config, { measure: 'buggy', split: 'validation' });
  close(row(buggy.slices[1]!, 'entropy').final.mean, row(validation.slices[1]!, 'entropy').final.mean - 0.3, 1e-12);
});

test('without slices: one development slice per dataset, scenario and model; a store config read back; mixed settings refused', () => {
  const summary = summarizeBenchmark(cells, null, { measure: 'accuracy', split: 'test' });
  assert.deepEqual(
    summary.slices.map((s) => [s.name, s.role, s.cells]),
    [
      ['fashion-mnist / none / cnn', 'development', 20],
      ['fashion-mnist / none / mlp', 'development', 20],
      ['mnist / none / mlp', 'development', 20],
      ['mnist / starve 3,8:0.02 / mlp', 'development', 20],
    ],
  );
  assert.equal(summary.verdict.text, 'No confirmation slice holds results: no verdict.');
  assert.deepEqual(
    slicesOfRuns([{ strategies: ['mode'] }, JSON.parse(JSON.stringify(config)), { nonsense: 1 }])?.map((s) => s.name),
    ['dev-mnist', 'conf-starved', 'conf-fashion'],
  );
  assert.equal(slicesOfRuns([{ strategies: ['mode'] }, { nonsense: 1 }]), null);
  const only = summarizeBenchmark(cells, config.slices!.slice(0, 1), { measure: 'accuracy', split: 'test' });
  assert.equal(only.cellsOutsideSlices, 60);
  const twoBatches = expandCells(parseExperimentConfig({ ...BENCHMARK_CONFIG, batches: [20, 40], seeds: 2 })).map(stored);
  assert.throws(
    () => summarizeBenchmark(twoBatches, config, { measure: 'accuracy', split: 'test' }),
    /mix cells of different batch.*--where batch=20/,
  );
});
