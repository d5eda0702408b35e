/**
 * Unit tests of the HTML report's pure parts on small hand-made documents: the repair views (best
 * cells, regressions, confusion matrices), escaping, determinism, y ranges, and the ranking behind
 * the galleries.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LabeledSet } from '../../core/data-types.js';
import { METRICS, METRIC_NAMES } from '../../select/metrics.js';
import { parseRepairDoc, type RepairDoc } from '../../experiment/repair-doc.js';
import { rankSimilarInputs } from '../../select/galleries.js';
import { fitRange } from './chart.js';
import { escapeHtml } from './html.js';
import { reportHtml, type ReportContent } from './index.js';
import { CHANGE_MARK } from './repair-view.js';

const LIBRARY = { source: '/* chart library */', version: '0.0.0' };

const metrics = (accuracy: number, perLabel: number[], confusion?: number[][]): RepairDoc['initial']['test'] => ({
  accuracy,
  perLabel,
  ...(confusion === undefined ? {} : { confusion }),
});
const iteration = (n: number, validation: number, test: RepairDoc['initial']['test']): RepairDoc['arms'][number]['iterations'][number] => ({
  iteration: n,
  target: { label: 1, kind: 'underfitting', layer: 'dense_1' },
  selected: { indices: [0], labels: [1], targeted: [1], alreadyCorrect: [0] },
  shareAlreadyCorrect: 0,
  validation: metrics(validation, [0.9, 0.5 + n / 10, 0.9]),
  test,
  regressions: [],
  rolledBack: false,
});

/** Label 2 drops by 5 points with mode (a regression), label 1 gains; targeted-random has the best Final. */
const REPAIR: RepairDoc = {
  kind: 'mode-repair',
  version: 1,
  model: 'm',
  dataset: 'synthetic',
  scenarios: ['starve 1:0.1'],
  classNames: ['0', '1', '<b>2</b>'],
  seed: 5,
  config: {
    strategy: 'mode:hc:least:cosine:importance:top',
    compare: ['targeted-random'],
    iterations: 2,
    batch: 20,
    alpha: 0.25,
    retrain: 'cumulative',
    layerSelection: 'saturation',
    delta: 0.05,
    earlyStop: true,
  },
  initial: {
    validation: metrics(0.8, [0.9, 0.5, 0.9]),
    test: metrics(
      0.8,
      [0.9, 0.5, 0.95],
      [
        [9, 1, 0],
        [4, 5, 1],
        [0, 1, 19],
      ],
    ),
    bugs: [{ label: 1, kind: 'underfitting' }],
  },
  table: [
    {
      strategy: 'mode:hc:least:cosine:importance:top',
      initialAcc: 0.8,
      finalAcc: 0.85,
      controlAcc: 0.82,
      finishedEarly: false,
      diffIF: 0.05,
      diffFC: 0.03,
      iterations: 2,
      targetLabel: 1,
      targetBefore: 0.5,
      targetAfter: 0.8,
      buggyBefore: 0.5,
      buggyAfter: 0.8,
    },
    {
      strategy: 'targeted-random',
      initialAcc: 0.8,
      finalAcc: 0.875,
      controlAcc: 0.81,
      finishedEarly: true,
      diffIF: 0.075,
      diffFC: 0.065,
      iterations: 1,
      targetLabel: 1,
      targetBefore: 0.5,
      targetAfter: 0.7,
      buggyBefore: 0.5,
      buggyAfter: 0.7,
    },
    {
      strategy: 'control',
      initialAcc: 0.8,
      finalAcc: 0.82,
      controlAcc: 0.82,
      finishedEarly: false,
      diffIF: 0.02,
      diffFC: 0,
      iterations: 2,
      targetLabel: 1,
      targetBefore: 0.5,
      targetAfter: 0.6,
      buggyBefore: 0.5,
      buggyAfter: 0.6,
    },
  ],
  arms: [
    {
      name: 'mode:hc:least:cosine:importance:top',
      control: false,
      finishedEarly: false,
      iterations: [
        iteration(1, 0.82, metrics(0.83, [0.9, 0.7, 0.93])),
        iteration(
          2,
          0.84,
          metrics(
            0.85,
            [0.9, 0.8, 0.9],
            [
              [9, 1, 0],
              [2, 8, 0],
              [1, 1, 18],
            ],
          ),
        ),
      ],
    },
    {
      name: 'targeted-random',
      control: false,
      finishedEarly: true,
      iterations: [
        iteration(
          1,
          0.86,
          metrics(
            0.875,
            [0.9, 0.7, 0.95],
            [
              [9, 1, 0],
              [3, 7, 0],
              [0, 1, 19],
            ],
          ),
        ),
      ],
    },
    {
      name: 'control',
      control: true,
      finishedEarly: false,
      iterations: [iteration(1, 0.81, metrics(0.81, [0.9, 0.55, 0.95])), iteration(2, 0.82, metrics(0.82, [0.9, 0.6, 0.95]))],
    },
  ],
};

const content = (repair: RepairDoc = REPAIR): ReportContent => ({
  title: 'MODE report: t',
  source: 'runs/t',
  analysis: null,
  repair,
  galleries: null,
  queue: null,
  store: null,
  notes: [],
});

/** The <tr> of the table `id` whose row header is `name`. */
function row(html: string, id: string, name: string): string {
  const table = html.slice(html.indexOf(`id="${id}"`));
  const body = table.slice(0, table.indexOf('</table>'));
  const found = body.split('<tr').find((r) => r.includes(`>${name}</th>`));
  assert.ok(found !== undefined, `row ${name} in ${id}`);
  return found;
}

test('the repair table marks the best strategy cells, never the control, and holds every number', () => {
  const html = reportHtml(content(), { chartLibrary: LIBRARY });
  const best = row(html, 'repair-results', 'targeted-random');
  assert.match(best, /<td class="best"[^>]*>0\.8750<\/td>/, 'best Final');
  assert.match(best, /<td class="best"[^>]*>\+0\.0650<\/td>/, 'best Diff F-C');
  const mode = row(html, 'repair-results', 'mode (hc, least, cosine, importance, top)');
  assert.match(mode, /<td class="best"[^>]*>0\.8000<\/td>/, 'mode has the best label-1 accuracy after');
  assert.doesNotMatch(mode, /class="best"[^>]*>0\.8500</);
  const control = row(html, 'repair-results', 'control (random)');
  assert.doesNotMatch(control, /class="best"/);
  assert.match(html, /<tr class="control"><th[^>]*>control \(random\)<\/th>/);
});

test('per-label accuracy marks a drop of more than CHANGE_MARK as a regression and a rise as a gain', () => {
  assert.equal(CHANGE_MARK, 0.01);
  const html = reportHtml(content(), { chartLibrary: LIBRARY });
  const label2 = row(html, 'repair-per-label-table', `${escapeHtml('2 <b>2</b>')}`);
  assert.match(label2, /<td class="regress"[^>]*>\u25BC \u22125\.0<\/td>/, 'mode: 95% to 90%');
  const label1 = row(html, 'repair-per-label-table', '1 *');
  assert.match(label1, /<td class="gain"[^>]*>\u25B2 \+30\.0<\/td>/);
  assert.match(
    html,
    /Labels that lost more than 1 point of test accuracy: mode \(hc, least, cosine, importance, top\): 2 &lt;b&gt;2&lt;\/b&gt;; targeted-random: none; control \(random\): none\./,
  );
  assert.doesNotMatch(html, /<b>2<\/b>/, 'class names are escaped');
});

test('confusion matrices before and after, and a note where a repair.json lacks them', () => {
  const html = reportHtml(content(), { chartLibrary: LIBRARY });
  assert.match(html, /id="repair-confusion-before"/);
  assert.match(html, /id="repair-confusion-after-0"/);
  assert.match(html, /id="repair-confusion-after-1"/);
  assert.match(html, /This repair\.json has no confusion matrix after control \(random\)/);
  const before = html.slice(html.indexOf('id="repair-confusion-before"'), html.indexOf('id="repair-confusion-after-0"'));
  assert.match(
    before,
    /<td class="diag" style="background:rgba\(0,114,178,0\.950\);color:#fff" title="true 2 &lt;b&gt;2&lt;\/b&gt;, predicted 2 &lt;b&gt;2&lt;\/b&gt;: 19 of 20 \(95\.0%\)">19<\/td>/,
  );
});

test('the same content gives the same page; the charts carry their titles, axis labels and data', () => {
  const a = reportHtml(content(), { chartLibrary: LIBRARY });
  assert.equal(reportHtml(content(), { chartLibrary: LIBRARY }), a);
  const specs = [...a.matchAll(/<script type="application\/json" class="chart-spec" data-canvas="([^"]+)">([^<]*)<\/script>/g)].map(
    (m) => JSON.parse(m[2]!) as { title: string; xLabel: string; yLabel: string; series: { values: (number | null)[] }[] },
  );
  assert.equal(specs.length, 3, 'validation accuracy, buggy-label accuracy, per-label accuracy');
  for (const spec of specs) {
    assert.ok(spec.title !== '' && spec.xLabel !== '' && spec.yLabel !== '');
  }
  // The targeted-random line stops after its one iteration.
  assert.deepEqual(specs[0]!.series[1]!.values, [0.8, 0.86, null]);
  assert.match(a, /<script>\/\* chart library \*\/<\/script>/);
});

test('fitRange covers the values on whole tick steps inside [0, 1]', () => {
  assert.deepEqual(fitRange([]), [0, 1]);
  for (const values of [[0.8775, 0.9433, 0.9485], [0.355, 0.91], [0.999, 1], [0, 0.02], [0.5]]) {
    const [low, high] = fitRange(values);
    assert.ok(low >= 0 && high <= 1 && low < high);
    assert.ok(
      values.every((v) => v >= low && v <= high),
      `${values} in [${low}, ${high}]`,
    );
    assert.ok(high - low >= 0.04 - 1e-9);
  }
  // Span 0.08 after padding: steps of 0.02 (at most 8 ticks), so the range is rounded out to 0.86-0.96.
  assert.deepEqual(fitRange([0.8775, 0.9485]), [0.86, 0.96]);
});

test('parseRepairDoc accepts its own kind only, with one line naming the field', () => {
  assert.equal(parseRepairDoc(JSON.stringify(REPAIR), 'r.json').seed, 5);
  assert.throws(
    () => parseRepairDoc(JSON.stringify({ ...REPAIR, kind: 'mode-analysis' }), 'r.json'),
    /^ModeError: r\.json is not a repair\.json of this mode \(bad field at kind: .*\); pass a folder written by `mode repair`$/,
  );
  assert.throws(
    () => parseRepairDoc(JSON.stringify({ hello: 1 }), 'r.json'),
    /r\.json is not a repair\.json of this mode \(it has no "kind" field\)/,
  );
  assert.throws(() => parseRepairDoc('[1,', 'r.json'), /r\.json is not JSON/);
});

test(
  'galleries: a pool copy of the reference ranks first under every metric where identity ranks first, ' +
    'and last among the least similar',
  () => {
    const shape = [2, 2, 1] as const;
    const set = (rows: number[][], labels: number[]): LabeledSet => ({
      x: Float32Array.from(rows.flat()),
      y: Int32Array.from(labels),
      count: labels.length,
      inputShape: shape,
      numClasses: 2,
    });
    // Label 0's correctly classified validation inputs average to [0.5, 0.5, 0.25, 0.75]; the missed one is left out of HC.
    const validation = set(
      [
        [0.4, 0.6, 0.2, 0.8],
        [0.6, 0.4, 0.3, 0.7],
        [1, 1, 1, 1],
        [0, 0, 0, 0],
      ],
      [0, 0, 0, 1],
    );
    const predictions = Int32Array.from([0, 0, 1, 1]);
    const pool = set(
      [
        [1, 0, 1, 0],
        [0.9, 0.1, 0.8, 0.2],
        [0.5, 0.5, 0.25, 0.75],
        [0.5, 0.5, 0.25, 0.75],
        [0.1, 0.9, 0.1, 0.9],
      ],
      [0, 0, 1, 0, 0],
    );
    const ranked = rankSimilarInputs(pool, validation, predictions, 0, 'hc', { size: 2 });
    assert.deepEqual(Array.from(ranked.reference), [0.5, 0.5, 0.25, 0.75]);
    assert.equal(ranked.referenceCount, 2);
    assert.equal(ranked.candidates, 4, 'label 0 only');
    assert.deepEqual(
      ranked.perMetric.map((m) => m.metric),
      [...METRIC_NAMES],
    );
    for (const m of ranked.perMetric) {
      assert.equal(m.most.length, 2);
      assert.ok(
        m.most.every((p) => p.index !== 2),
        'other labels are never ranked',
      );
      assert.ok(m.most[0]!.score >= m.most[1]!.score && m.least[0]!.score <= m.least[1]!.score);
      if (METRICS[m.metric].identityRanksFirst) {
        assert.equal(m.most[0]!.index, 3, `${m.metric}: the copy ranks first`);
        assert.notEqual(m.least[0]!.index, 3, `${m.metric}: the copy is not the least similar`);
      }
    }
  },
);
