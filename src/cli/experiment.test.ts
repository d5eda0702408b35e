/**
 * End-to-end tests of `mode experiment` and `mode results` on tiny synthetic data, with 2 worker
 * processes: a sweep, its rerun, bad input, and the kill test (kill -9 mid-sweep, then resume).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { expandCells, loadExperimentConfig } from '../experiment/experiment-config.js';
import { ResultStore } from '../experiment/store.js';
import { MAIN, TEST_ENGINE, cliHarness } from './cli-harness.js';
import { TINY_SWEEP } from './tiny-sweep.fixture.js';

const { tmp, mode } = cliHarness('mode-experiment-');

const TINY = TINY_SWEEP;

function writeConfig(name: string, config: unknown): string {
  const file = path.join(tmp, name);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

function storeRows<T>(file: string, sql: string): T[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

test('experiment runs the grid with 2 workers into the store, a rerun runs nothing, --dry-run plans', () => {
  const config = writeConfig('tiny.json', TINY);
  const r = mode('experiment', '--config', config, '--store', 'tiny.sqlite', '--workers', '2');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^4 cells: 0 were already done, 4 ran, 0 failed, in [\d.]+ s/);
  // The workers' peak memory, read from the workers themselves: a node process with an engine holds tens of MiB at least.
  const peak = Number(/^peak resident memory of a worker: (\d+) MiB/m.exec(r.stdout)?.[1]);
  assert.ok(peak > 30 && peak < 4096, r.stdout);
  assert.match(r.stderr, /4 cells: 0 already done in tiny\.sqlite, 4 to run; they need 2 initial models, 2 to train; 2 workers/);
  assert.match(r.stderr, /\[done 4\/4 · running 0 · failed 0 · left 0 · ETA 0s\] /);
  assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('[done ')).length, 4, 'one line per cell on a non-terminal');
  const cells = storeRows<{ key: string; status: string }>(path.join(tmp, 'tiny.sqlite'), 'SELECT key, status FROM cells');
  assert.deepEqual(
    cells.map((c) => c.key).sort(),
    expandCells(loadExperimentConfig(config))
      .map((c) => c.key)
      .sort(),
  );
  assert.ok(cells.every((c) => c.status === 'done'));
  // One control per seed, computed by the first of its cells and reused by the other: every cell's control arm is the stored one.
  const controls = storeRows<{ key: string; arm: string }>(path.join(tmp, 'tiny.sqlite'), 'SELECT key, arm FROM controls');
  const expanded = expandCells(loadExperimentConfig(config));
  assert.deepEqual(controls.map((c) => c.key).sort(), [...new Set(expanded.map((c) => c.controlKey))].sort());
  assert.equal(controls.length, 2);
  const armOf = new Map(controls.map((c) => [c.key, JSON.parse(c.arm) as { iterations: unknown }]));
  for (const row of storeRows<{ key: string; result: string }>(path.join(tmp, 'tiny.sqlite'), 'SELECT key, result FROM cells')) {
    const cell = expanded.find((c) => c.key === row.key)!;
    const control = (JSON.parse(row.result) as { arms: { control: boolean; iterations: unknown }[] }).arms.find((a) => a.control)!;
    assert.deepEqual(control.iterations, armOf.get(cell.controlKey)!.iterations, `${cell.label}: its control is the shared one`);
  }
  assert.equal(
    readdirSync(path.join(tmp, 'tiny.sqlite.models')).filter((d) => !d.startsWith('.')).length,
    2,
    'one model per seed, shared by both strategies',
  );
  // One worker over both models (its cache moves from the first model to the second) gives the two workers' results.
  const one = mode('experiment', '--config', config, '--store', 'tiny-one.sqlite', '--workers', '1');
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stdout, /^4 cells: 0 were already done, 4 ran, 0 failed/);
  assert.ok(!one.stdout.includes('replaced'), 'the models differ only by seed: one worker for all');
  const results = (file: string): string[] =>
    storeRows<{ result: string }>(path.join(tmp, file), 'SELECT result FROM cells ORDER BY key').map((r) =>
      r.result.replaceAll(/"[^"]*\.sqlite\.models\/([0-9a-f]+)"/g, '"$1"'),
    );
  assert.deepEqual(results('tiny-one.sqlite'), results('tiny.sqlite'));
  // Two kinds of model (2 and 3 epochs): one worker is replaced at each change of kind (train one, train the other, one's
  // cells, the other's), and after every job where its peak passes 1 MiB; the same results either way, and with none replaced.
  const kinds = writeConfig('kinds.json', { ...TINY, seeds: 1, epochs: [2, 3] });
  const replaced = (store: string, ...extra: string[]): { stdout: string; results: string[] } => {
    const run = mode('experiment', '--config', kinds, '--store', store, '--workers', '1', ...extra);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^4 cells: 0 were already done, 4 ran, 0 failed/);
    return { stdout: run.stdout, results: results(store) };
  };
  const byKind = replaced('kinds.sqlite');
  assert.match(byKind.stdout, /\(3 workers were replaced by fresh ones, at another kind of model or for their memory\)$/m);
  const everyJob = replaced('kinds-every.sqlite', '--worker-memory', '1');
  assert.match(everyJob.stdout, /\(6 workers were replaced by fresh ones/);
  const never = replaced('kinds-never.sqlite', '--worker-memory', '0');
  assert.ok(!never.stdout.includes('replaced'), never.stdout);
  assert.deepEqual(byKind.results, never.results);
  assert.deepEqual(everyJob.results, never.results);
  assert.match(
    mode('experiment', '--config', config, '--worker-memory', '-5').stderr,
    /--worker-memory must be an integer in \[0, ∞\], got '-5'/,
  );
  const again = mode('experiment', '--config', config, '--store', 'tiny.sqlite', '--workers', '2');
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /^4 cells: 4 were already done, 0 ran, 0 failed/);
  const plan = mode('experiment', '--config', config, '--store', 'tiny.sqlite', '--seeds', '3', '--dry-run');
  assert.equal(plan.status, 0, plan.stderr);
  assert.match(plan.stdout, /6 cells: 4 already done in tiny\.sqlite, 2 to run; they need 1 initial models, 1 to train/);
  // --where: a slice of the grid now, the rest later; the same filter slices the tables.
  const slice = mode(
    'experiment',
    '--config',
    config,
    '--store',
    'tiny.sqlite',
    '--seeds',
    '3',
    '--where',
    'strategy=targeted-random',
    '--where',
    'seed=3',
    '--dry-run',
  );
  assert.equal(slice.status, 0, slice.stderr);
  assert.match(
    slice.stdout,
    /^1 cells: 0 already done in tiny\.sqlite, 1 to run; they need 1 initial models, 1 to train\nleft out by --where: 5 cells/,
  );
  assert.match(
    mode('experiment', '--config', config, '--where', 'model=cnn', '--dry-run').stderr,
    /--where model=cnn: no cell of this experiment has that value; its values: mlp\n$/,
  );
  assert.match(
    mode('experiment', '--config', config, '--where', 'modle=mlp', '--dry-run').stderr,
    /unknown --where setting 'modle': must be one of \[dataset, /,
  );
  assert.match(
    mode('experiment', '--config', config, '--where', 'model', '--dry-run').stderr,
    /--where 'model': expected SETTING=VALUE\[,VALUE\.\.\.\]/,
  );
  const sliced = mode('results', '--store', 'tiny.sqlite', '--where', 'strategy-name=mode', '--format', 'csv', '--reference', 'none');
  assert.equal(sliced.status, 0, sliced.stderr);
  assert.equal(parseCsv(sliced.stdout).filter((r) => r.some((v) => v.startsWith('mode:'))).length, 1);
  assert.ok(!sliced.stdout.includes('targeted-random'));
});

test('bad input: an invalid config names the field, a store that is not ours is refused untouched', async () => {
  const badConfig = writeConfig('bad.json', { ...TINY, alphas: [0.25, 1.5] });
  const r = mode('experiment', '--config', badConfig, '--store', 'bad.sqlite');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^mode: .*bad\.json: bad experiment config at alphas\.1: Too big: expected number to be <=1\n$/);
  assert.ok(!existsSync(path.join(tmp, 'bad.sqlite')));
  const both = mode('experiment', '--config', badConfig, '--preset', 'replication');
  assert.equal(both.status, 2);
  assert.match(both.stderr, /pass exactly one of --config FILE or --preset NAME/);
  assert.match(
    mode('experiment', '--preset', 'replicashun').stderr,
    /unknown preset 'replicashun': must be one of \[replication, buggy, ratio, benchmark\]/,
  );
  const notes = path.join(tmp, 'notes.txt');
  writeFileSync(notes, 'not a database\n'.repeat(100));
  const refused = mode('experiment', '--config', writeConfig('ok.json', TINY), '--store', 'notes.txt');
  assert.equal(refused.status, 1);
  assert.match(
    refused.stderr,
    /notes\.txt is not a mode result store \(not an SQLite database: file is not a database\); choose another --store; the file was left as it is/,
  );
  assert.equal(readFileSync(notes, 'utf8'), 'not a database\n'.repeat(100));
  assert.match(mode('results', '--store', 'notes.txt').stderr, /is not a mode result store/);
  // A cell that fails is reported and recorded as failed, not done; the sweep goes on and exits 1.
  const tooBig = writeConfig('too-big.json', { ...TINY, seeds: 1, trainSizes: [{ train: 1100, validation: 200, pool: 400 }] });
  const failed = mode('experiment', '--config', tooBig, '--store', 'failed.sqlite', '--workers', '1');
  assert.equal(failed.status, 1);
  assert.match(failed.stderr, /FAILED: initial model failed: split sizes need 1700 training examples/);
  assert.match(
    failed.stderr,
    /mode: 2 of 2 cells failed \(first: .*\); they are recorded as failed in failed\.sqlite, and the same command runs them again\n$/,
  );
  assert.equal(storeRows(path.join(tmp, 'failed.sqlite'), 'SELECT * FROM cells').length, 0);
  assert.equal(storeRows(path.join(tmp, 'failed.sqlite'), 'SELECT * FROM failures').length, 2);
  assert.match(mode('results', '--store', 'failed.sqlite').stderr, /failed\.sqlite holds no finished cells yet/);
  assert.match(mode('experiment', '--config', tooBig, '--engine', 'gpu').stderr, /unknown engine 'gpu': must be one of \[.*wasm.*\]/);
  assert.match(mode('results', '--store', 'absent.sqlite').stderr, /no result store at 'absent\.sqlite'/);
  // A store made on another engine is refused: nothing runs, nothing is recorded.
  const other = await ResultStore.open(path.join(tmp, 'other-engine.sqlite'));
  await other.claimEngine('some-other-engine');
  await other.close();
  const mixed = mode('experiment', '--config', writeConfig('ok2.json', TINY), '--store', 'other-engine.sqlite', '--workers', '1');
  assert.equal(mixed.status, 2, mixed.stderr);
  assert.match(
    mixed.stderr,
    /other-engine\.sqlite holds results computed on the some-other-engine engine and this sweep runs on tfjs-wasm; rerun with the --engine that made them, or pass a new --store/,
  );
  assert.deepEqual(
    storeRows<{ n: number }>(
      path.join(tmp, 'other-engine.sqlite'),
      'SELECT (SELECT count(*) FROM cells) + (SELECT count(*) FROM failures) + (SELECT count(*) FROM models) AS n',
    ),
    [{ n: 0 }],
  );
});

/** Pids of the children of `pid`, and whether a pid still runs (a zombie does not), from /proc (Linux). */
function childrenOf(pid: number): number[] {
  if (!existsSync('/proc')) return [];
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
        .replace(/^.*\) /s, '')
        .split(' ');
      if (Number(stat[1]) === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return false;
  }
}

test('a class subset given as a list of labels: its data are written with its labels and names, and --where selects it', () => {
  const config = writeConfig('subset.json', {
    ...TINY,
    datasets: ['synthetic:classes=4,size=8,n=1200,noise=0.9'],
    classSubsets: [[2, 0]],
    trainSizes: [{ train: 250, validation: 100, pool: 200 }],
    seeds: 1,
    strategies: ['targeted-random'],
  });
  const r = mode('experiment', '--config', config, '--store', 'subset.sqlite', '--workers', '1');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /model synthetic:classes=4,size=8,n=1200,noise=0\.9 classes 2\/0 mlp seed 1 trained in/);
  const dataDir = path.join(tmp, 'subset.sqlite.models', 'data');
  const [folder] = readdirSync(dataDir);
  const subset = JSON.parse(readFileSync(path.join(dataDir, folder!, 'subset.json'), 'utf8')) as { labels: number[]; classNames: string[] };
  assert.deepEqual(
    [subset.labels, subset.classNames],
    [
      [2, 0],
      ['2', '0'],
    ],
  );
  assert.equal(readFileSync(path.join(dataDir, folder!, 'classes.txt'), 'utf8'), '2\n0\n');
  const table = mode('results', '--store', 'subset.sqlite', '--where', 'class-subset=2/0', '--format', 'csv');
  assert.equal(table.status, 0, table.stderr);
  assert.ok(parseCsv(table.stdout).some((row) => row.includes('targeted-random')));
  assert.match(
    mode('results', '--store', 'subset.sqlite', '--where', 'class-subset=2').stderr,
    /--where class-subset=2: no cell of this experiment has that value; its values: 2\/0/,
  );
});

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.trim().split('\n')) {
    const cells: string[] = [];
    let cell = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (quoted) {
        if (c === '"' && line[i + 1] === '"') ((cell += '"'), i++);
        else if (c === '"') quoted = false;
        else cell += c;
      } else if (c === '"') quoted = true;
      else if (c === ',') (cells.push(cell), (cell = ''));
      else cell += c;
    }
    cells.push(cell);
    rows.push(cells);
  }
  return rows;
}

test('kill -9 mid-sweep, then the same command: exactly the expected cells, each once, the finished ones not rerun', async () => {
  // 2 seeds x 2 strategies x 2 batches = 8 cells of 3 iterations.
  const config = writeConfig('kill.json', { ...TINY, scenarios: ['starve 1:0.2'], batches: [20, 30], iterations: [3] });
  const store = path.join(tmp, 'kill.sqlite');
  const expected = expandCells(loadExperimentConfig(config))
    .map((c) => c.key)
    .sort();
  assert.equal(expected.length, 8);
  const child = spawn(
    process.execPath,
    [MAIN, '--engine', TEST_ENGINE, 'experiment', '--config', config, '--store', store, '--workers', '2'],
    { cwd: tmp, detached: true, stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const pid = child.pid!;
  let before: { key: string; finished_at: string }[] = [];
  try {
    const deadline = Date.now() + 50_000;
    while (Date.now() < deadline) {
      await sleep(50);
      if (!existsSync(store)) continue;
      try {
        before = storeRows(store, 'SELECT key, finished_at FROM cells');
      } catch {
        continue; // the store is being created
      }
      if (before.length >= 1) break;
    }
    const workers = childrenOf(pid);
    process.kill(pid, 'SIGKILL');
    await exited;
    assert.ok(before.length >= 1 && before.length < 8, `killed with ${before.length} cells done; the test needs some but not all`);
    // Workers notice that their parent is gone and exit on their own, even mid-cell.
    const gone = Date.now() + 10_000;
    while (workers.some(running) && Date.now() < gone) await sleep(100);
    assert.deepEqual(workers.filter(running), [], 'no worker outlives the killed sweep');
  } finally {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // the whole group is already gone
    }
  }
  const done = storeRows<{ key: string }>(store, 'SELECT key FROM cells');
  assert.ok(done.length >= before.length, 'nothing finished was lost');
  const resumed = mode('experiment', '--config', config, '--store', store, '--workers', '2');
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`^8 cells: ${done.length} were already done, ${8 - done.length} ran, 0 failed`));
  const after = storeRows<{ key: string; finished_at: string }>(store, 'SELECT key, finished_at FROM cells');
  assert.deepEqual(after.map((c) => c.key).sort(), expected, 'exactly the expected cells, each once');
  for (const b of before) assert.equal(after.find((a) => a.key === b.key)?.finished_at, b.finished_at, `cell ${b.key} was not rerun`);
  const counts = storeRows<{ n: number }>(store, 'SELECT count(*) AS n FROM iterations GROUP BY cell_key');
  assert.deepEqual(
    counts.map((c) => c.n),
    new Array(8).fill(2 * 3),
    'two arms x three iterations per cell, no leftovers of the killed cells',
  );
  assert.deepEqual(storeRows(store, 'SELECT * FROM failures'), []);

  // `mode results` on that store, in every format.
  const table = mode('results', '--store', store);
  assert.equal(table.status, 0, table.stderr);
  assert.match(
    table.stdout,
    /strategy\s+n\s+Initial Acc\s+Final Acc\s+Control Acc\s+Finished Early\s+Diff I-F\s+Diff F-C\s+p t \(Holm\)\s+p W \(Holm\)\s+d_z\s+vs targeted-random/,
  );
  assert.match(table.stdout, /== batch 20\n/);
  assert.match(table.stdout, /== batch 30\n/);
  const markdown = mode('results', '--store', store, '--format', 'markdown', '--by', 'batch');
  assert.equal(markdown.status, 0, markdown.stderr);
  assert.match(markdown.stdout, /\| batch \| n \| Initial Acc \| Final Acc \| Control Acc \| Finished Early \| Diff I-F \| Diff F-C \|/);
  const csv = parseCsv(mode('results', '--store', store, '--format', 'csv').stdout);
  assert.equal(csv.length, 1 + 2 * 2, 'a line per strategy and batch');
  assert.ok(csv.every((row) => row.length === csv[0]!.length));
  assert.deepEqual(csv[0]!.slice(0, 4), ['batch', 'strategy', 'measure', 'n']);
  assert.ok(csv.slice(1).every((row) => row[3] === '2' && Number.isFinite(Number(row[csv[0]!.indexOf('final_mean')]))));
  const json = JSON.parse(mode('results', '--store', store, '--format', 'json', '--measure', 'buggy').stdout);
  assert.equal(json.measure, 'buggy');
  assert.equal(json.tables.length, 2);
  assert.equal(json.tables[0].rows[0].seeds.length, 2);
  assert.deepEqual(JSON.parse(mode('results', '--store', store, '--json').stdout).by, ['strategy']);
  assert.match(
    mode('results', '--store', store, '--by', 'colour').stderr,
    /unknown --by setting 'colour': must be one of \[dataset, class-subset/,
  );
});
