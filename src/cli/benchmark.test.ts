/** `mode results --benchmark` and the report's Benchmark section, on a store of made-up cells (no training: a few seconds). */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, test } from 'node:test';
import { benchmarkDoc, BENCHMARK_CONFIG } from '../experiment/benchmark.fixture.js';
import { expandCells, parseExperimentConfig } from '../experiment/experiment-config.js';
import { ResultStore } from '../experiment/store.js';
import { checkPage, chromiumAvailable } from '../report/html/browser-harness.js';
import { cliHarness } from './cli-harness.js';

const { tmp, mode } = cliHarness('mode-benchmark-');
const config = parseExperimentConfig(BENCHMARK_CONFIG);

before(async () => {
  const store = await ResultStore.open(path.join(tmp, 'bench.sqlite'));
  try {
    const cells = expandCells(config);
    await store.recordRun(config, cells.length);
    for (const c of cells)
      await store.recordCell({ key: c.key, modelKey: c.modelKey, label: c.label, config: c.config, result: benchmarkDoc(c), seconds: 1 });
  } finally {
    await store.close();
  }
});

test('mode results --benchmark: per slice tables, ranks across slices, the verdict; --json; --out writes the diagrams', () => {
  const r = mode('results', '--store', 'bench.sqlite', '--benchmark', '--out', 'cd');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /== conf-starved \(confirmation, 20 cells\); best baseline: entropy/);
  assert.match(r.stdout, /strategy\s+n\s+Final\s+Δ control\s+Holm p t \/ W\s+Δ targeted-random/);
  assert.match(r.stdout, /confirmation: 2 slices as blocks/);
  assert.match(
    r.stdout,
    /Verdict: mode:\S+ beats the best baseline \(Holm-adjusted paired t p < 0.01\) on at least half of the 2 confirmation slices/,
  );
  for (const role of ['confirmation', 'all']) assert.ok(existsSync(path.join(tmp, 'cd', `cd-${role}.png`)), role);
  assert.ok(!existsSync(path.join(tmp, 'cd', 'cd-development.png')), 'one development slice: no ranking');
  const json = mode('--json', 'results', '--store', 'bench.sqlite', '--benchmark', '--split', 'validation');
  assert.equal(json.status, 0, json.stderr);
  const summary = JSON.parse(json.stdout) as {
    split: string;
    slicesFrom: string;
    slices: { bestBaseline: string }[];
    verdict: { text: string };
  };
  assert.equal(summary.split, 'validation');
  assert.equal(summary.slicesFrom, 'config');
  assert.deepEqual(
    summary.slices.map((s) => s.bestBaseline),
    ['entropy', 'entropy', 'entropy'],
  );
  assert.match(summary.verdict.text, /^No MODE-informed strategy .* Best on confirmation: entropy/);
  const refused = mode('results', '--store', 'bench.sqlite', '--benchmark', '--by', 'metric');
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /--by does not apply to --benchmark/);
});

test('mode report of a store with slices has a Benchmark section with the diagrams', () => {
  const r = mode('report', '--from', 'bench.sqlite', '--out', 'rep', '--quiet');
  assert.equal(r.status, 0, r.stderr);
  const html = readFileSync(path.join(tmp, 'rep', 'index.html'), 'utf8');
  assert.match(html, /Benchmark: statistics across slices/);
  assert.match(html, /<caption>conf-fashion \(confirmation, 40 cells\); best baseline: entropy<\/caption>/);
  assert.equal((html.match(/alt="Mean ranks across/g) ?? []).length, 2, 'the confirmation and all diagrams');
  assert.match(html, /<b>Verdict:<\/b> mode:/);
});

test(
  'the Benchmark section opens cleanly in Chromium: its diagrams decode, its tables hold the numbers',
  { skip: !chromiumAvailable() && 'no Chromium' },
  async () => {
    const page = await checkPage(pathToFileURL(path.join(tmp, 'rep', 'index.html')).href);
    assert.deepEqual(page.errors, []);
    const diagrams = page.images.filter((i) => i.alt.startsWith('Mean ranks across'));
    assert.equal(diagrams.length, 2);
    assert.ok(diagrams.every((i) => i.naturalWidth === 900 && i.naturalHeight > 100));
    const slice = page.tables['store-benchmark-slice-1']!;
    assert.deepEqual(slice[0], [
      'strategy',
      'n',
      'Final',
      'Δ control',
      'Holm p t / W',
      'Δ targeted-random',
      'Holm p t / W',
      'Δ best baseline',
      'Holm p t / W',
    ]);
    assert.equal(slice.length, 1 + 4);
  },
);
