/**
 * Throughput of `mode worker` on this machine: a slice of the `buggy` preset (MLP, MNIST, batch 200;
 * 8 cells a seed) queued in a fresh PostgreSQL database, run by one worker with 2 slots and by two
 * workers with 1 slot each, whole processes, alternating. Reports cells per minute and two overheads,
 * as shares of a mean cell:
 * - per job: from the moment a worker claims a cell's job to the commit of its rows and completion,
 *   less the cell's own seconds (waiting for a slot or a model, reading the control, IPC, the
 *   write); the median over the cells, so the few that wait for an initial model do not dominate;
 * - in all: the slot time not spent in a repair or in training an initial model (slots x wall - the
 *   cells' seconds - the models' seconds, over the cells), which also holds starting the processes
 *   and engines and the last cells' tail, when one slot works and the others have nothing left.
 *
 *   npm run build && node dist/bench/queue-throughput.js --server postgres://USER:PASS@HOST:PORT [--seeds 5] [--repeats 1] [--engine torch]
 *   node dist/bench/queue-throughput.js --render bench/results/queue-throughput.json   (the page again, from saved results)
 *
 * The server's user must be allowed to create databases; the bench makes and drops `mode_bench_*`.
 * Writes bench/results/queue-throughput.json and .md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const MAIN = path.join(root, 'dist', 'src', 'cli', 'main.js');
const RESULTS = path.join(root, 'bench', 'results');

interface Layout {
  readonly name: string;
  readonly workers: number;
  readonly slots: number;
}
const LAYOUTS: Layout[] = [
  { name: '1 worker x 2 slots', workers: 1, slots: 2 },
  { name: '2 workers x 1 slot', workers: 2, slots: 1 },
];

interface Run {
  readonly layout: string;
  readonly cells: number;
  readonly wall: number;
  readonly cellSeconds: number;
  readonly modelSeconds: number;
  readonly cellsPerMinute: number;
  readonly overheadPerCell: number;
  readonly overheadShare: number;
  readonly jobOverheadMedian: number;
  readonly jobOverheadShare: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function sql(url: string, statement: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(statement);
  } finally {
    await client.end();
  }
}

function mode(args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`mode ${args.join(' ')} failed: ${r.stderr}`);
}

function worker(engine: string, url: string, slots: number, cache: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, '--engine', engine, '--quiet', 'worker', '--store', url, '--slots', String(slots)], {
      env: { ...process.env, MODE_CACHE: cache },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mode worker exited with ${code}`))));
  });
}

async function runLayout(server: string, layout: Layout, seeds: number, engine: string, round: number): Promise<Run> {
  const db = `mode_bench_${layout.workers}x${layout.slots}_${round}`;
  await sql(`${server}/postgres`, `DROP DATABASE IF EXISTS ${db}`);
  await sql(`${server}/postgres`, `CREATE DATABASE ${db}`);
  const url = `${server}/${db}`;
  const slice = ['--where', 'model=mlp', '--where', 'dataset=mnist', '--where', 'batch=200'];
  mode(['--engine', engine, 'experiment', '--preset', 'buggy', '--seeds', String(seeds), ...slice, '--store', url, '--enqueue']);
  const caches = Array.from({ length: layout.workers }, () => mkdtempSync(path.join(os.tmpdir(), 'mode-bench-worker-')));
  const t = performance.now();
  await Promise.all(caches.map((cache) => worker(engine, url, layout.slots, cache)));
  const wall = (performance.now() - t) / 1000;
  for (const cache of caches) rmSync(cache, { recursive: true, force: true });
  const cells = (await sql(url, 'SELECT count(*)::int AS n, sum(seconds) AS s FROM mode.cells')).rows[0] as { n: number; s: number };
  const models = (await sql(url, 'SELECT coalesce(sum(seconds), 0) AS s FROM mode.models')).rows[0] as { s: number };
  const jobs = (
    await sql(
      url,
      'SELECT extract(epoch FROM j.completed_on - j.started_on)::float8 - c.seconds AS overhead FROM pgboss.job j ' +
        "JOIN mode.cells c ON c.key = (j.data->>'cell')::json->>'key' WHERE j.name = 'mode-cells' AND j.state = 'completed'",
    )
  ).rows as { overhead: number }[];
  const jobOverheadMedian = median(jobs.map((j) => j.overhead));
  await sql(`${server}/postgres`, `DROP DATABASE ${db}`);
  const slotSeconds = layout.workers * layout.slots * wall;
  const overheadPerCell = (slotSeconds - cells.s - models.s) / cells.n;
  return {
    layout: layout.name,
    cells: cells.n,
    wall,
    cellSeconds: cells.s,
    modelSeconds: models.s,
    cellsPerMinute: (cells.n / wall) * 60,
    overheadPerCell,
    overheadShare: overheadPerCell / (cells.s / cells.n),
    jobOverheadMedian,
    jobOverheadShare: jobOverheadMedian / (cells.s / cells.n),
  };
}

/** The results as a Markdown page. */
function render(seeds: number, engine: string, runs: readonly Run[]): string {
  return [
    '# `mode worker` throughput (`node dist/bench/queue-throughput.js`)',
    '',
    `Slice: buggy preset, MLP, MNIST, batch 200, ${seeds} seeds; engine ${engine}; ${os.availableParallelism()} cores.`,
    '',
    '| layout | cells | wall s | cells/min | mean cell s | models s | per job: median overhead s | / cell | in all: overhead per cell s | / cell |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...runs.map(
      (r) =>
        `| ${r.layout} | ${r.cells} | ${r.wall.toFixed(1)} | ${r.cellsPerMinute.toFixed(1)} | ${(r.cellSeconds / r.cells).toFixed(2)} | ` +
        `${r.modelSeconds.toFixed(1)} | ${r.jobOverheadMedian.toFixed(3)} | ${(r.jobOverheadShare * 100).toFixed(2)}% | ` +
        `${r.overheadPerCell.toFixed(3)} | ${(r.overheadShare * 100).toFixed(1)}% |`,
    ),
    '',
    "Per job: from the claim of a cell's job to the commit of its rows and its completion, less the cell's seconds (median over the cells).",
    "In all: (workers x slots x wall - the cells' seconds - the initial models' seconds) / cells; it also holds starting the processes",
    'and engines and the tail of the last cells.',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      server: { type: 'string' },
      seeds: { type: 'string', default: '5' },
      repeats: { type: 'string', default: '1' },
      engine: { type: 'string', default: 'torch' },
      /** Re-renders the Markdown page from a results file of an earlier run, running nothing. */
      render: { type: 'string' },
    },
  });
  if (values.render !== undefined) {
    const saved = JSON.parse(readFileSync(values.render, 'utf8')) as { seeds: number; engine: string; runs: Run[] };
    writeFileSync(path.join(RESULTS, 'queue-throughput.md'), render(saved.seeds, saved.engine, saved.runs) + '\n');
    return;
  }
  if (values.server === undefined) throw new Error('pass --server postgres://USER:PASS@HOST:PORT (a user that may create databases)');
  const server = values.server.replace(/\/+$/, '');
  const runs: Run[] = [];
  for (let round = 1; round <= Number(values.repeats); round++) {
    for (const layout of round % 2 === 1 ? LAYOUTS : [...LAYOUTS].reverse()) {
      const run = await runLayout(server, layout, Number(values.seeds), values.engine, round);
      process.stderr.write(`${run.layout}: ${run.cells} cells in ${run.wall.toFixed(1)} s\n`);
      runs.push(run);
    }
  }
  writeFileSync(
    path.join(RESULTS, 'queue-throughput.json'),
    JSON.stringify({ seeds: Number(values.seeds), engine: values.engine, runs }, null, 2),
  );
  const page = render(Number(values.seeds), values.engine, runs);
  writeFileSync(path.join(RESULTS, 'queue-throughput.md'), page + '\n');
  process.stdout.write(page + '\n');
}

await main();
