/**
 * End-to-end tests of `mode report` and `mode serve` on a small synthetic run (train, analyze, repair
 * laid out as `mode demo` lays them out) and a tiny experiment store: the page holds the run's
 * numbers, the same run gives the same page, bad input gives one line and writes nothing, the live
 * server answers over loopback, and the page opens in headless Chromium with no console error and
 * every image decoded (a screenshot goes to test-artifacts/).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { ResultStore } from '../experiment/store.js';
import { checkPage, chromiumAvailable, CHROMIUM, type PageCheck } from '../report/html/browser-harness.js';
import { cliHarness, startServe, type ServeRun } from './cli-harness.js';
import { TINY_SWEEP } from './tiny-sweep.fixture.js';

const { tmp, mode } = cliHarness('mode-report-');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts');

const SYNTH = 'synthetic:classes=3,size=8,n=900';
const TRAIN = [
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
  '--starve',
  '1:0.1',
  '--seed',
  '3',
  '--quiet',
];
const TINY = TINY_SWEEP;

/**
 * The browser tests: skipped with a message where Chromium is missing, but a failure under CI,
 * where .ci/run installs it (scripts/install-chromium.sh).
 */
function browserSkip(): string | false {
  if (chromiumAvailable()) return false;
  if (process.env.CI !== undefined && process.env.CI !== '') return false;
  return `no Chromium at ${CHROMIUM} (apt-get install chromium, or set MODE_CHROMIUM); the browser checks run under CI`;
}

function run(...args: string[]): string {
  const r = mode(...args);
  assert.equal(r.status, 0, `mode ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(() => {
  run('train', ...TRAIN, '--out', 'run/model');
  run('analyze', '--model', 'run/model', '--theta', '1', '--quiet', '--out', 'run/analysis');
  run(
    'repair',
    '--model',
    'run/model',
    '--batch',
    '20',
    '--iterations',
    '2',
    '--theta',
    '1',
    '--compare',
    'targeted-random',
    '--quiet',
    '--out',
    'run/repair',
  );
  writeFileSync(path.join(tmp, 'tiny.json'), JSON.stringify(TINY));
  run('experiment', '--config', 'tiny.json', '--store', 'tiny.sqlite', '--workers', '1', '--quiet');
});

const html = (dir: string): string => readFileSync(path.join(tmp, dir, 'index.html'), 'utf8');
const fixed4 = (v: number): string => v.toFixed(4);
const signed4 = (v: number): string => `${v >= 0 ? '+' : '\u2212'}${Math.abs(v).toFixed(4)}`;

interface RepairJson {
  table: { strategy: string; initialAcc: number; finalAcc: number; controlAcc: number; diffIF: number; diffFC: number }[];
  initial: { test: { perLabel: number[]; confusion: number[][] }; bugs: { label: number }[] };
  arms: { name: string; iterations: { test: { confusion: number[][] } }[] }[];
}
const repairJson = (): RepairJson => JSON.parse(readFileSync(path.join(tmp, 'run', 'repair', 'repair.json'), 'utf8')) as RepairJson;

test("report of a demo-style folder: every view, the run's numbers, and the same page for the same run", () => {
  const out = run('report', '--from', 'run', '--out', 'rep', '--quiet');
  assert.equal(out, `wrote ${path.join('rep', 'index.html')}\n`);
  const page = html('rep');
  for (const id of [
    'repair-results',
    'repair-val-acc',
    'repair-val-buggy',
    'repair-per-label',
    'repair-confusion-before',
    'repair-confusion-after-0',
    'analysis-layers',
    'analysis-sheet-1',
    'galleries-1',
  ]) {
    assert.match(page, new RegExp(`id="${id}`), `the page has ${id}`);
  }
  const repair = repairJson();
  for (const row of repair.table) {
    for (const v of [fixed4(row.initialAcc), fixed4(row.finalAcc), fixed4(row.controlAcc), signed4(row.diffIF), signed4(row.diffFC)])
      assert.ok(page.includes(`>${v}<`) || page.includes(`>${v} `), `${row.strategy}: ${v} in the page`);
  }
  assert.match(page, /Most similar per metric/);
  assert.match(page, /Least similar per metric/);
  assert.match(page, /cosine: most similar/);
  assert.match(page, /Chart\.js v4\.6\.1/, 'Chart.js is inlined');
  assert.doesNotMatch(
    page,
    /\s(?:src|href)="(?!data:|#)/,
    'every src and href is a data URI or a fragment: nothing is loaded from elsewhere',
  );
  run('report', '--from', 'run', '--out', 'rep-again', '--quiet');
  assert.equal(html('rep-again'), page, 'same run, same page');
  // A second report into the same folder needs --force.
  const again = mode('report', '--from', 'run', '--out', 'rep', '--quiet');
  assert.equal(again.status, 2);
  assert.match(again.stderr, /^mode: output folder 'rep' already exists; choose another --out or pass --force to replace it\n$/);
});

test('report of an analysis folder alone and of a repair folder alone says what is missing', () => {
  run('report', '--from', 'run/analysis', '--out', 'rep-analysis', '--quiet');
  const analysis = html('rep-analysis');
  assert.match(analysis, /id="analysis-layers"/);
  assert.match(analysis, /No repair\.json here/);
  run('report', '--from', 'run/repair/repair.json', '--out', 'rep-repair', '--no-galleries', '--quiet');
  const repair = html('rep-repair');
  assert.match(repair, /id="repair-results"/);
  assert.match(repair, /No analysis\.json here/);
  assert.match(repair, /Galleries left out \(--no-galleries\)/);
});

test('report of an experiment store: the results table matches `mode results`', () => {
  run('report', '--from', 'tiny.sqlite', '--out', 'srep', '--quiet');
  const page = html('srep');
  const results = JSON.parse(run('results', '--store', 'tiny.sqlite', '--format', 'json')) as {
    tables: { rows: { final: { mean: number; ci95: number }; diffFC: { mean: number } }[] }[];
  };
  assert.equal(results.tables.length, 1);
  for (const row of results.tables[0]!.rows) {
    assert.ok(
      page.includes(`>${fixed4(row.final.mean)}<span class="ci">\u00B1 ${fixed4(row.final.ci95)}</span>`),
      `Final ${fixed4(row.final.mean)} ± ${fixed4(row.final.ci95)} in the page`,
    );
    assert.ok(page.includes(signed4(row.diffFC.mean)), `Diff F-C ${signed4(row.diffFC.mean)} in the page`);
  }
  assert.match(page, /id="store-accuracy-0"/);
  assert.match(page, /id="store-curve-0"/);
  assert.match(page, /class="best"/, 'the best cells are marked');
});

const BAD: { name: string; setup: () => string | Promise<string>; error: RegExp; status: number }[] = [
  {
    name: 'a path that does not exist',
    setup: () => 'nowhere',
    error: /--from 'nowhere' does not exist; pass a folder written by `mode demo`/,
    status: 2,
  },
  {
    name: 'an empty folder',
    setup: () => (mkdirSync(path.join(tmp, 'empty'), { recursive: true }), 'empty'),
    error: /--from 'empty' is an empty folder/,
    status: 2,
  },
  {
    name: 'a folder that is not ours',
    setup: () => (
      mkdirSync(path.join(tmp, 'photos'), { recursive: true }),
      writeFileSync(path.join(tmp, 'photos', 'cat.jpg'), 'jpeg'),
      'photos'
    ),
    error:
      /--from 'photos' is not a mode output folder: no analysis\.json, repair\.json or queue\.json in it or in analysis\/ and repair\/ \(it holds cat\.jpg\)/,
    status: 2,
  },
  {
    name: 'an analysis.json of someone else',
    setup: () => (
      mkdirSync(path.join(tmp, 'other'), { recursive: true }),
      writeFileSync(path.join(tmp, 'other', 'analysis.json'), '{"kind": "their-analysis"}'),
      'other'
    ),
    error: /other\/analysis\.json is not an analysis\.json of this mode \(bad field at kind: .*\); pass a folder written by `mode analyze`/,
    status: 1,
  },
  {
    name: 'a repair.json that is not JSON',
    setup: () => (
      mkdirSync(path.join(tmp, 'broken'), { recursive: true }),
      writeFileSync(path.join(tmp, 'broken', 'repair.json'), '{"kind": "mode-rep'),
      'broken'
    ),
    error: /broken\/repair\.json is not JSON/,
    status: 1,
  },
  {
    name: 'a file that is not a database',
    setup: () => (writeFileSync(path.join(tmp, 'notes.txt'), 'not a database\n'.repeat(100)), 'notes.txt'),
    error: /notes\.txt is not a mode result store/,
    status: 1,
  },
  {
    name: 'an SQLite file of someone else',
    setup: () => {
      const db = new Database(path.join(tmp, 'theirs.sqlite'));
      db.exec('CREATE TABLE songs (title TEXT)');
      db.close();
      return 'theirs.sqlite';
    },
    error: /theirs\.sqlite is an SQLite database but not a mode result store/,
    status: 1,
  },
  {
    name: 'a store of ours with no cells',
    setup: async () => (await (await ResultStore.open(path.join(tmp, 'fresh.sqlite'))).close(), 'fresh.sqlite'),
    error: /fresh\.sqlite holds no finished cells yet; run `mode experiment --store fresh\.sqlite` first/,
    status: 2,
  },
];

for (const bad of BAD) {
  test(`bad input, ${bad.name}: one line, non-zero exit, nothing written`, async () => {
    const from = await bad.setup();
    const out = `bad-${bad.name.replace(/\W+/g, '-')}`;
    const r = mode('report', '--from', from, '--out', out, '--quiet');
    assert.equal(r.status, bad.status, r.stderr);
    assert.match(r.stderr, /^mode: [^\n]+\n$/, 'exactly one line');
    assert.match(r.stderr, bad.error);
    assert.equal(r.stdout, '');
    assert.ok(!existsSync(path.join(tmp, out)), 'nothing written');
  });
}

/** Starts `mode serve` on a free port and returns its URL and a stop function. */
const serve = (...args: string[]): Promise<ServeRun> => startServe(tmp, ...args);

test('serve: the same report over loopback, updated when the store changes; bad input is one line', async () => {
  const server = await serve('--from', 'tiny.sqlite', '--no-galleries');
  try {
    const page = await (await fetch(server.url)).text();
    const results = JSON.parse(run('results', '--store', 'tiny.sqlite', '--format', 'json')) as {
      tables: { rows: { final: { mean: number; ci95: number } }[] }[];
    };
    for (const row of results.tables[0]!.rows)
      assert.ok(page.includes(`>${fixed4(row.final.mean)}<span class="ci">\u00B1 ${fixed4(row.final.ci95)}</span>`));
    assert.match(page, /id="live-badge"/);
    const state = (await (await fetch(new URL('/state', server.url))).json()) as { version: string };
    assert.equal(state.version, 'cells 4, failures 0');
    // A sweep adds cells: the state changes, and so does the page.
    writeFileSync(path.join(tmp, 'tiny3.json'), JSON.stringify({ ...TINY, seeds: 3 }));
    run('experiment', '--config', 'tiny3.json', '--store', 'tiny.sqlite', '--workers', '1', '--quiet');
    const later = (await (await fetch(new URL('/state', server.url))).json()) as { version: string };
    assert.equal(later.version, 'cells 6, failures 0');
    assert.match(await (await fetch(server.url)).text(), /6 cells, seeds 1, 2, 3\./);
    assert.equal((await fetch(new URL('/nothing', server.url))).status, 404);
  } finally {
    assert.equal(await server.stop(), 0, server.stderr());
  }
  const bad = mode('serve', '--from', 'notes.txt', '--port', '0');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^mode: notes\.txt is not a mode result store[^\n]*\n$/);
});

/** Opens a page in Chromium and checks what a user would see go wrong. */
async function assertOpensCleanly(url: string, screenshot: string, minimumImages: number): Promise<PageCheck> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const check = await checkPage(url, { screenshot: path.join(ARTIFACTS, screenshot) });
  assert.deepEqual(check.errors, [], 'no console errors, page errors or failed requests');
  assert.deepEqual(check.foreignRequests, [], 'nothing fetched from elsewhere');
  assert.ok(check.images.length >= minimumImages, `${check.images.length} images, at least ${minimumImages} expected`);
  for (const image of check.images) assert.ok(image.naturalWidth > 0 && image.naturalHeight > 0, `image decoded: ${image.alt}`);
  assert.ok(check.canvases.length > 0);
  for (const canvas of check.canvases) assert.ok(canvas.drawn, `chart ${canvas.id} drawn`);
  assert.ok(existsSync(path.join(ARTIFACTS, screenshot)));
  return check;
}

test(
  'browser: the demo-style report opens in headless Chromium with its numbers, decoded images and no console errors',
  { skip: browserSkip() },
  async () => {
    if (!existsSync(path.join(tmp, 'rep', 'index.html'))) run('report', '--from', 'run', '--out', 'rep', '--quiet');
    const check = await assertOpensCleanly(pathToFileURL(path.join(tmp, 'rep', 'index.html')).href, 'report-folder.png', 10);
    const repair = repairJson();
    const table = check.tables['repair-results']!;
    assert.equal(table.length, 1 + repair.table.length, 'a header and a row per strategy');
    repair.table.forEach((row, i) => {
      const cells = table[i + 1]!;
      assert.equal(cells[3], fixed4(row.initialAcc));
      assert.equal(cells[4]!.replace(/\s*\u2605$/, ''), fixed4(row.finalAcc));
      assert.equal(cells[5], fixed4(row.controlAcc));
    });
    const before = check.tables['repair-confusion-before']!;
    assert.deepEqual(
      before.slice(1).map((r) => r.slice(1).map(Number)),
      repair.initial.test.confusion,
    );
    const after = check.tables['repair-confusion-after-0']!;
    assert.deepEqual(
      after.slice(1).map((r) => r.slice(1).map(Number)),
      repair.arms[0]!.iterations.at(-1)!.test.confusion,
    );
    assert.ok(
      check.images.some((i) => /Heat maps of label/.test(i.alt)),
      'a heat map sheet',
    );
    assert.ok(
      check.images.some((i) => /most similar/.test(i.alt)) && check.images.some((i) => /least similar/.test(i.alt)),
      'the galleries',
    );
  },
);

test('browser: the store report, file and served, opens cleanly', { skip: browserSkip() }, async () => {
  // The serve test adds cells to the store: report it as it is now.
  run('report', '--from', 'tiny.sqlite', '--out', 'srep-now', '--quiet');
  const check = await assertOpensCleanly(pathToFileURL(path.join(tmp, 'srep-now', 'index.html')).href, 'report-store.png', 0);
  const results = JSON.parse(run('results', '--store', 'tiny.sqlite', '--format', 'json')) as {
    tables: { rows: { by: { strategy: string }; final: { mean: number; ci95: number }; control: { mean: number; ci95: number } }[] }[];
  };
  const table = check.tables['store-accuracy-0']!;
  assert.equal(table.length, 1 + results.tables[0]!.rows.length);
  results.tables[0]!.rows.forEach((row, i) => {
    assert.equal(table[i + 1]![3], `${fixed4(row.final.mean)}\u00B1 ${fixed4(row.final.ci95)}`, `${row.by.strategy}: Final`);
    assert.equal(table[i + 1]![4], `${fixed4(row.control.mean)}\u00B1 ${fixed4(row.control.ci95)}`, `${row.by.strategy}: Control`);
  });
  const server = await serve('--from', 'tiny.sqlite');
  try {
    const served = await checkPage(server.url);
    assert.deepEqual(served.errors, []);
    assert.deepEqual(served.foreignRequests, []);
    assert.ok(served.canvases.every((c) => c.drawn));
  } finally {
    assert.equal(await server.stop(), 0, server.stderr());
  }
});
