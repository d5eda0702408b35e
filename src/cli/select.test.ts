/** `mode select` (a labeling queue from an unlabeled pool) and `mode repair --add` (the labels folded back in), end to end. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import type { Model } from '../engine/index.js';
import { openPool } from './commands/select.js';
import { loadDataset } from '../data/index.js';
import { proxyLabels } from '../experiment/select-queue.js';
import { cliHarness } from './cli-harness.js';

const { tmp, mode } = cliHarness('mode-select-');

const DATA = 'synthetic:classes=3,size=8,n=900';
const POOL = 'synthetic:classes=3,size=8,n=300,seed=11';

function trained(): void {
  if (existsSync(path.join(tmp, 'm', 'model.json'))) return;
  const t = mode('train', '--dataset', DATA, '--model', 'mlp', '--epochs', '3', '--starve', '1:0.03', '--out', 'm', '--quiet');
  assert.equal(t.status, 0, t.stderr);
}

const select = (...args: string[]) => mode('select', '--model', 'm', '--data', DATA, '--pool', POOL, '--quiet', ...args);

/** The labeler: the pool's hidden labels for exactly the queued inputs, as queue.csv's index and label columns. */
async function labelQueue(queueDir: string, file: string, edit: (rows: string[]) => string[] = (r) => r): Promise<void> {
  const pool = await loadDataset(POOL);
  const queue = JSON.parse(readFileSync(path.join(tmp, queueDir, 'queue.json'), 'utf8')) as { rows: { index: number }[] };
  const rows = queue.rows.map((r) => `${r.index},${pool.classNames[pool.train.y[r.index]!]}`);
  writeFileSync(path.join(tmp, file), ['index,label', ...edit(rows)].join('\n') + '\n');
}

test('select finds the starved label and queues inputs for it; the same seed gives the same queue', () => {
  trained();
  const a = select('--budget', '40', '--strategy', 'targeted-uncertainty', '--out', 'qa');
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stdout, /buggy labels: 1 \(underfitting/);
  assert.match(a.stdout, /the pool is unlabeled/);
  for (const f of ['queue.csv', 'queue.json', 'contact-sheet.png', 'manifest.json']) assert.ok(existsSync(path.join(tmp, 'qa', f)), f);
  const doc = JSON.parse(readFileSync(path.join(tmp, 'qa', 'queue.json'), 'utf8'));
  assert.equal(doc.rows.length, 40);
  assert.equal(doc.poolLabels, 'predicted');
  assert.equal(doc.analysis.target.label, '1');
  assert.equal(doc.rows.filter((r: { serves: string | null }) => r.serves === '1').length, 10); // alpha 0.25 of 40
  assert.deepEqual(
    doc.rows.map((r: { rank: number }) => r.rank),
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
  const csv = readFileSync(path.join(tmp, 'qa', 'queue.csv'), 'utf8')
    .trim()
    .split('\n');
  assert.equal(csv[0], 'rank,file,index,score,predicted,confidence,serves,strategy,label');
  assert.equal(csv.length, 41);
  const report = mode('report', '--from', 'qa', '--out', 'qa-report');
  assert.equal(report.status, 0, report.stderr);
  const html = readFileSync(path.join(tmp, 'qa-report', 'index.html'), 'utf8');
  assert.match(html, /Labeling queue/);
  assert.match(html, /alt="contact sheet of the first picks/);
  assert.match(html, /starts at dense_/);
  const b = select('--budget', '40', '--strategy', 'targeted-uncertainty', '--out', 'qb');
  assert.equal(b.status, 0, b.stderr);
  assert.equal(readFileSync(path.join(tmp, 'qb', 'queue.json'), 'utf8'), readFileSync(path.join(tmp, 'qa', 'queue.json'), 'utf8'));
});

test('select with the pool labels (a study that knows them) serves the buggy label with inputs of that label', async () => {
  trained();
  const r = select('--budget', '40', '--strategy', 'targeted-random', '--use-pool-labels', '--out', 'qp');
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(readFileSync(path.join(tmp, 'qp', 'queue.json'), 'utf8'));
  assert.equal(doc.poolLabels, 'pool');
  const pool = await loadDataset(POOL);
  for (const row of doc.rows.filter((x: { serves: string | null }) => x.serves !== null)) assert.equal(pool.train.y[row.index], 1);
});

test('select refuses bad input with one line and writes nothing', () => {
  trained();
  const cases: [string[], RegExp][] = [
    [['--budget', '301'], /--budget 301 is larger than the pool \(300 inputs/],
    [['--budget', '10', '--strategy', 'nope'], /unknown strategy 'nope'/],
    [['--budget', '10', '--validation-share', '1'], /--validation-share must be strictly between 0 and 1/],
  ];
  for (const [args, message] of cases) {
    const r = select(...args, '--out', 'bad');
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, message);
    assert.equal(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('mode:')).length,
      1,
      r.stderr,
    );
    assert.ok(!existsSync(path.join(tmp, 'bad')), `nothing written for ${args.join(' ')}`);
  }
});

test('repair --add folds the labeled queue back in and writes the repaired model; the buggy label improves', async () => {
  trained();
  // A queue half of the starved label (the pool's labels read, as a study does), so the retraining has something to learn from.
  const q = select('--budget', '60', '--strategy', 'targeted-random', '--alpha', '0.5', '--use-pool-labels', '--out', 'q');
  assert.equal(q.status, 0, q.stderr);
  await labelQueue('q', 'labels.csv');
  const r = mode(
    'repair',
    '--model',
    'm',
    '--data',
    DATA,
    '--add',
    'labels.csv',
    '--pool',
    POOL,
    '--queue',
    'q',
    '--fine-tune-epochs',
    '10',
    '--out',
    'r',
    '--quiet',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /added 60 labeled inputs/);
  assert.match(r.stdout, /no-regression guard: (passed|FAILED)/);
  const doc = JSON.parse(readFileSync(path.join(tmp, 'r', 'repair-add.json'), 'utf8'));
  assert.equal(doc.sources.length, 60);
  assert.ok(doc.after.validation.perLabel[1] > doc.before.validation.perLabel[1], JSON.stringify(doc.after.validation));
  assert.ok(existsSync(path.join(tmp, 'r', 'model', 'model.json')));
  const e = mode('eval', '--model', path.join('r', 'model'), '--dataset', DATA);
  assert.equal(e.status, 0, e.stderr);
});

test('repair --add refuses unknown classes, inputs outside the pool or the queue, and duplicates, one line each, writing nothing', async () => {
  trained();
  if (!existsSync(path.join(tmp, 'q', 'queue.json')))
    assert.equal(select('--budget', '60', '--strategy', 'targeted-random', '--alpha', '0.5', '--use-pool-labels', '--out', 'q').status, 0);
  const add = (file: string, ...extra: string[]) =>
    mode('repair', '--model', 'm', '--data', DATA, '--add', file, '--pool', POOL, '--out', 'bad', '--quiet', ...extra);
  const cases: [(rows: string[]) => string[], string[], RegExp][] = [
    [(rows) => [rows[0]!.replace(/,\d+$/, ',giraffe'), ...rows.slice(1)], [], /line 2: unknown class 'giraffe'/],
    [(rows) => [...rows, '300,1'], [], /index '300' is not in the pool \(300 inputs\)/],
    [(rows) => [...rows, rows[0]!], [], /is labeled twice \(first on line 2\)/],
    [(rows) => [...rows, `${outsideQueue()},1`], ['--queue', 'q'], /is not in the queue/],
  ];
  for (const [edit, extra, message] of cases) {
    await labelQueue('q', 'bad.csv', edit);
    const r = add('bad.csv', ...extra);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, message);
    assert.ok(!existsSync(path.join(tmp, 'bad')));
  }
  const noPool = mode('repair', '--model', 'm', '--data', DATA, '--add', 'bad.csv', '--out', 'bad');
  assert.equal(noPool.status, 2);
  assert.match(noPool.stderr, /pass the --pool they came from/);
});

/** A pool index the queue in `q` did not ask for. */
function outsideQueue(): number {
  const queued = new Set(
    (JSON.parse(readFileSync(path.join(tmp, 'q', 'queue.json'), 'utf8')) as { rows: { index: number }[] }).rows.map((r) => r.index),
  );
  let i = 0;
  while (queued.has(i)) i++;
  return i;
}

test('proxyLabels: the inputs most likely to be the target count as it, as many as validation has of it, at least an even share', () => {
  // 6 inputs, 3 classes, all predicted 0; by p(1) they rank 3, 1, 4, 2, 0, 5.
  const rows = [
    [0.8, 0.1, 0.1],
    [0.5, 0.4, 0.1],
    [0.7, 0.2, 0.1],
    [0.45, 0.45, 0.1],
    [0.6, 0.3, 0.1],
    [0.9, 0.05, 0.05],
  ];
  const probabilities = Float32Array.from(rows.flat());
  const predicted = new Int32Array(6);
  const set = (y: number[]) => ({
    x: new Float32Array(y.length),
    y: Int32Array.from(y),
    count: y.length,
    inputShape: [1, 1, 1] as const,
    numClasses: 3,
  });
  // Validation half class 1: 3 of the 6 count as 1.
  assert.deepEqual(Array.from(proxyLabels(predicted, probabilities, 3, 1, set([1, 1, 1, 0, 2, 0]))), [0, 1, 0, 1, 1, 0]);
  // A starved validation (one sixth) still gets an even share, 2 of 6.
  assert.deepEqual(Array.from(proxyLabels(predicted, probabilities, 3, 1, set([0, 1, 0, 2, 0, 0]))), [0, 1, 0, 1, 0, 0]);
  assert.deepEqual(Array.from(proxyLabels(predicted, probabilities, 3, null, set([0, 1, 0, 2, 0, 0]))), [0, 0, 0, 0, 0, 0]);
});

test("a labelled image pool's classes are mapped by name onto the model's; an unknown one is refused", async () => {
  const root = path.join(tmp, 'named-pool');
  const png = (file: string): Promise<unknown> => {
    mkdirSync(path.dirname(file), { recursive: true });
    return sharp(Buffer.alloc(64, 128), { raw: { width: 8, height: 8, channels: 1 } })
      .png()
      .toFile(file);
  };
  await png(path.join(root, 'good', 'b', '1.png'));
  await png(path.join(root, 'good', 'c', '2.png'));
  const model = { inputShape: [8, 8, 1] } as unknown as Model;
  const pool = await openPool(`images:${path.join(root, 'good')}`, model, 'unit', ['a', 'b', 'c']);
  assert.deepEqual(Array.from(pool.y!), [1, 2]);
  await png(path.join(root, 'bad', 'z', '1.png'));
  await assert.rejects(
    openPool(`images:${path.join(root, 'bad')}`, model, 'unit', ['a', 'b', 'c']),
    /the pool's class 'z' is not among the model's \[a, b, c\]/,
  );
});
