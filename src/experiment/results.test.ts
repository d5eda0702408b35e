/** Results: Friedman against scipy, grouping into the slides' tables, honest '-' with one seed, layer selection vs none. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderResults, resultsCsv } from '../report/results-table.js';
import { expandCells, parseExperimentConfig, type Cell } from './experiment-config.js';
import { friedman, midRanks } from './friedman.js';
import { summarizeResults } from './results.js';
import { checkRepairDoc } from './repair-doc.js';
import { fakeRepairDoc } from './repair-doc.fixture.js';
import type { StoredCell } from './store.js';

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test('Friedman chi-square matches scipy.stats.friedmanchisquare', () => {
  // python3 -c "from scipy import stats; print(stats.friedmanchisquare(a, b, c))", scipy 1.x, a/b/c = the
  // slides' Initial, Final and Control columns of the first five metrics: statistic 0.10526315789473835, p 0.9487294800164364
  const a = [0.9436, 0.9481, 0.9452, 0.9445, 0.945];
  const b = [0.9438, 0.952, 0.9356, 0.9458, 0.9405];
  const c = [0.9483, 0.9481, 0.9439, 0.9438, 0.9438];
  const r = friedman(a.map((_, i) => [a[i]!, b[i]!, c[i]!]));
  close(r.statistic, 0.10526315789473835);
  close(r.pValue, 0.9487294800164364, 1e-7);
  assert.equal(r.df, 2);
  // With ties within blocks (tie correction): x,y,z,w below give statistic 5.068965517241385, p 0.166816247173982
  const x = [1, 2, 3, 4, 5, 6];
  const y = [2, 2, 4, 3, 6, 5];
  const z = [3, 1, 5, 5, 4, 7];
  const w = [4, 3, 2, 6, 7, 7];
  const t = friedman(x.map((_, i) => [x[i]!, y[i]!, z[i]!, w[i]!]));
  close(t.statistic, 5.068965517241385);
  close(t.pValue, 0.166816247173982, 1e-7);
  assert.deepEqual(midRanks([3, 1, 3, 2]), [3.5, 1, 3.5, 2]);
  assert.ok(Number.isNaN(friedman([[1, 2, 3]]).pValue), 'one block: no test');
  assert.ok(
    Number.isNaN(
      friedman([
        [1, 2],
        [2, 1],
      ]).pValue,
    ),
    'two treatments: no test (as scipy)',
  );
  assert.ok(
    Number.isNaN(
      friedman([
        [1, 1, 1],
        [2, 2, 2],
      ]).pValue,
    ),
    'all tied: no test',
  );
});

/** A stored cell whose strategy reaches `final` and whose control reaches `control` (test accuracy); its buggy label 1 is 0.3 below. */
function stored(cell: Cell, final: number, control: number, initial = 0.9): StoredCell {
  const result = checkRepairDoc(
    fakeRepairDoc({ strategy: cell.config.strategy, initial, final, control, iterations: 1, gap: 0.3 }),
    'fake',
  );
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

test("the slides' tables: one per other varying setting, rows by metric, tests across seeds, layer selection vs none", () => {
  const cells = expandCells(
    parseExperimentConfig({
      strategies: ['mode:dhc:most'],
      metrics: ['dot', 'cosine', 'euclidean'],
      layerSelections: ['saturation', 'none'],
      seeds: 4,
      batches: 20,
    }),
  );
  // cosine beats its control by 0.02 every seed (+ a little seed noise); layer selection adds 0.01.
  const data = cells.map((c) => {
    const bonus = (c.config.strategy.includes(':cosine:') ? 0.02 : 0) + (c.config.layerSelection === 'saturation' ? 0.01 : 0);
    return stored(c, 0.9 + bonus + c.config.seed * 0.001, 0.9 + c.config.seed * 0.0015);
  });
  const results = summarizeResults(data, { by: ['metric'], measure: 'accuracy', reference: 'targeted-random' });
  assert.deepEqual(
    results.tables.map((t) => t.group),
    [{ layerSelection: 'saturation' }, { layerSelection: 'none' }],
  );
  const none = results.tables[1]!;
  assert.deepEqual(
    none.rows.map((r) => r.by.metric),
    ['dot', 'cosine', 'euclidean'],
  );
  const cosine = none.rows[1]!;
  assert.equal(cosine.seeds.length, 4);
  close(cosine.diffFC.mean, 0.02 - 0.0005 * 2.5);
  assert.ok(cosine.vsControl.comparison.tTestP < 0.001);
  assert.ok(cosine.vsControl.tTestHolm >= cosine.vsControl.comparison.tTestP);
  assert.equal(none.reference, null, 'rows are metrics: no strategy to compare with');
  assert.ok(Number.isFinite(none.friedman.pValue) && none.friedman.blocks === 4 && none.friedman.treatments === 3);
  assert.equal(results.layerSelection.length, 1);
  const layer = results.layerSelection[0]!;
  assert.equal(layer.rule, 'saturation');
  assert.equal(layer.tested.comparison.n, 4, 'paired by seed, averaged over the metrics');
  close(layer.tested.comparison.meanDifference, 0.01);
  assert.equal(layer.settings, 3);
  const text = renderResults(results, 'table', 'x.sqlite');
  assert.match(
    text,
    /metric\s+n\s+Initial Acc\s+Final Acc\s+Control Acc\s+Finished Early\s+Diff I-F\s+Diff F-C\s+p t \(Holm\)\s+p W \(Holm\)\s+d_z/,
  );
  assert.match(text, /== layer-selection saturation/);
  assert.match(text, /saturation - none/);
  assert.match(text, /Friedman across metric on Final: chi2 = /);
  const csv = resultsCsv(results).trim().split('\n');
  assert.equal(csv.length, 1 + 2 * 3);
  assert.ok(csv.every((line) => line.split(',').length === csv[0]!.split(',').length));
});

test("with one seed, CIs and p-values are '-'; the reference strategy is compared where rows are strategies", () => {
  const cells = expandCells(
    parseExperimentConfig({
      strategies: ['mode:contrast:most:cosine:importance:top', 'targeted-random', 'entropy'],
      layerSelections: ['saturation', 'none'],
      seeds: 1,
      batches: 20,
    }),
  );
  const data = cells.map((c, i) => stored(c, 0.91 + i * 0.001, 0.9));
  const results = summarizeResults(data, { by: ['strategy'], measure: 'accuracy', reference: 'targeted-random' });
  // targeted-random and entropy have no layer selection: they join both tables.
  assert.equal(results.tables.length, 2);
  assert.ok(results.tables.every((t) => t.rows.length === 3 && t.reference === 'targeted-random'));
  const row = results.tables[0]!.rows[0]!;
  assert.ok(Number.isNaN(row.final.ci95) && Number.isNaN(row.vsControl.comparison.tTestP));
  const text = renderResults(results, 'markdown', 'one.sqlite');
  assert.match(
    text,
    /\| mode:contrast:most:cosine:importance:top \| 1 \| 0\.9000 ± - \| 0\.9100 ± - \| 0\.9000 ± - \| 0\/1 \| \+0\.0100 ± - \| \+0\.0100 ± - \| - \| - \| - \| -0\.0020 ± - \| - \| - \|/,
  );
  assert.match(text, /Friedman across strategy on Final: - \(needs at least 3 rows and 2 seeds that every row has; here 3 rows, 1 seed\)/);
  const tied = summarizeResults(
    cells.map((c) => stored(c, 0.9, 0.9)),
    { by: ['strategy'], measure: 'accuracy', reference: null },
  );
  assert.ok(Number.isNaN(tied.tables[0]!.rows[0]!.vsControl.comparison.tTestP), 'one seed with no difference is still no test, not p = 1');
  const buggy = summarizeResults(data, { by: ['strategy'], measure: 'buggy', reference: null });
  close(buggy.tables[0]!.rows[0]!.initial.mean, 0.6);
});
