/**
 * Sweeps across machines, on a real PostgreSQL server started here: two `mode experiment --enqueue`
 * racing queue each cell once; three `mode worker` processes, each in its own folder as on its own
 * machine, run the grid while one of them is killed with -9 in the middle of a cell; the store ends
 * with exactly the grid's cells, each once, whose rows equal those of the same grid run into SQLite.
 * Skipped where PostgreSQL is not installed, except under CI.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import Database from 'better-sqlite3';
import { expandCells, loadExperimentConfig } from '../experiment/experiment-config.js';
import { startPostgres, type PostgresServer } from '../experiment/postgres-harness.js';
import { MAIN, TEST_ENGINE, cliHarness, type CliRun } from './cli-harness.js';
import { CELL_ROWS, ITERATION_ROWS, TINY_SWEEP, withoutModelPath } from './tiny-sweep.fixture.js';

const { tmp, mode } = cliHarness('mode-queue-');

/** 3 seeds x 2 strategies (6 cells, 3 initial models) of a tiny MLP on 3 synthetic classes, 3 iterations each. */
const GRID = { ...TINY_SWEEP, seeds: 3, iterations: [3] };

let server: PostgresServer | null = null;
before(async () => {
  server = await startPostgres();
});
after(() => server?.stop());

/** Runs `mode` in `folder` (its own cache of models, as on another machine), without blocking the test. */
function modeAsync(folder: string, ...args: string[]): { pid: number; done: Promise<CliRun> } {
  mkdirSync(folder, { recursive: true });
  const child = spawn(process.execPath, [MAIN, '--engine', TEST_ENGINE, ...args], {
    cwd: folder,
    env: { ...process.env, MODE_CACHE: path.join(folder, 'cache') },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<CliRun>((resolve) => child.once('close', (code) => resolve({ status: code ?? -1, stdout, stderr })));
  return { pid: child.pid!, done };
}

test('enqueue races queue each cell once; 3 workers, one killed with -9 mid-cell, store each cell once, as SQLite does', async (t) => {
  if (server === null) return t.skip('PostgreSQL is not installed here');
  const s = server;
  const url = await s.createDatabase('grid');
  const config = path.join(tmp, 'grid.json');
  writeFileSync(config, JSON.stringify(GRID));
  const expected = expandCells(loadExperimentConfig(config)).map((c) => c.key);

  const racers = await Promise.all(
    [1, 2].map((i) => modeAsync(path.join(tmp, `enqueue-${i}`), 'experiment', '--config', config, '--store', url, '--enqueue').done),
  );
  for (const r of racers) assert.equal(r.status, 0, r.stderr);
  const queued = racers.map((r) => Number(/queued (\d+) cells/.exec(r.stdout)![1]));
  assert.equal(queued[0]! + queued[1]!, 6, `each cell queued by one of the two: ${racers.map((r) => r.stdout).join(' | ')}`);
  const jobs = await s.sql(
    'grid',
    "SELECT count(*)::int AS n, count(DISTINCT data->>'cell')::int AS keys FROM pgboss.job WHERE name = 'mode-cells'",
  );
  assert.deepEqual(jobs.rows[0], { n: 6, keys: 6 });

  const workers = [1, 2, 3].map((i) => modeAsync(path.join(tmp, `machine-${i}`), 'worker', '--store', url, '--slots', '1'));
  const victim = workers[0]!;
  // Kill the first worker (and its worker process: a lost machine) once it holds a cell.
  const deadline = Date.now() + 60_000;
  let held = false;
  while (!held && Date.now() < deadline) {
    await sleep(100);
    const claims = await s.sql('grid', 'SELECT worker FROM mode.claims');
    held = claims.rows.some((r: { worker: string }) => r.worker.split(':')[1] === String(victim.pid));
  }
  assert.ok(held, 'the first worker took a cell');
  process.kill(-victim.pid, 'SIGKILL');
  const killed = await victim.done;
  assert.equal(killed.status, -1);
  const survivors = await Promise.all(workers.slice(1).map((w) => w.done));
  for (const r of survivors) {
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /cells ran, \d+ failed attempts, in [\d.]+ s; the queue is empty/);
  }
  assert.ok(
    survivors.some((r) => /gave back 1 cell of a worker that stopped answering/.test(r.stderr)),
    'a survivor gave back the killed worker cell',
  );

  const stored = (await s.sql('grid', 'SELECT key FROM mode.cells')).rows.map((r: { key: string }) => r.key);
  assert.deepEqual([...stored].sort(), [...expected].sort(), 'exactly the grid, each cell once');
  const models = await s.sql('grid', 'SELECT count(*)::int AS n FROM mode.models');
  assert.equal(models.rows[0].n, 3, 'each initial model trained once, for every machine');
  const open = await s.sql('grid', "SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'mode-cells' AND state <> 'completed'");
  assert.equal(open.rows[0].n, 0);

  const sqlite = mode('experiment', '--config', config, '--store', 'grid.sqlite', '--workers', '2');
  assert.equal(sqlite.status, 0, sqlite.stderr);
  const db = new Database(path.join(tmp, 'grid.sqlite'), { readonly: true });
  for (const sql of [CELL_ROWS, ITERATION_ROWS]) {
    const fromPg: unknown[] = (await s.sql('grid', sql.replace(/FROM (\w+)/, 'FROM mode.$1'))).rows.map(withoutModelPath);
    const fromSqlite = (db.prepare(sql).all() as Record<string, unknown>[]).map(withoutModelPath);
    assert.ok(isDeepStrictEqual(fromPg, fromSqlite), `same seeds, same rows: ${sql}`);
  }
  db.close();
});

test('a worker on another engine than the store is refused with one line and takes no cell; an SQLite store has no queue', async (t) => {
  if (server === null) return t.skip('PostgreSQL is not installed here');
  const s = server;
  const url = await s.createDatabase('engines');
  const config = path.join(tmp, 'one.json');
  writeFileSync(config, JSON.stringify({ ...GRID, seeds: 1, strategies: ['targeted-random'] }));
  assert.equal(mode('experiment', '--config', config, '--store', url, '--enqueue').status, 0);
  await s.sql('engines', "INSERT INTO mode.meta (key, value) VALUES ('engine', 'some-other-engine')");
  const refused = mode('worker', '--store', url, '--slots', '1');
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /holds results computed on the some-other-engine engine and this sweep runs on tfjs-wasm/);
  const jobs = await s.sql('engines', "SELECT state FROM pgboss.job WHERE name = 'mode-cells'");
  assert.deepEqual(
    jobs.rows.map((r: { state: string }) => r.state),
    ['created'],
  );
  const sqlite = mode('worker', '--store', 'local.sqlite');
  assert.equal(sqlite.status, 2);
  assert.match(sqlite.stderr, /^mode: mode worker needs a PostgreSQL --store .*local\.sqlite is an SQLite file/);
});

test('a worker stopped with SIGTERM gives its cells back at once; another worker finishes the grid', async (t) => {
  if (server === null) return t.skip('PostgreSQL is not installed here');
  const s = server;
  const url = await s.createDatabase('stop');
  const config = path.join(tmp, 'stop.json');
  writeFileSync(config, JSON.stringify({ ...GRID, seeds: 1 }));
  assert.equal(mode('experiment', '--config', config, '--store', url, '--enqueue').status, 0);
  const first = modeAsync(path.join(tmp, 'stop-1'), 'worker', '--store', url, '--slots', '1');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && (await s.sql('stop', 'SELECT 1 FROM mode.claims')).rows.length === 0) await sleep(100);
  process.kill(first.pid, 'SIGTERM');
  const stopped = await first.done;
  assert.equal(stopped.status, 143, stopped.stderr);
  assert.match(stopped.stderr, /mode: mode worker stopped \(SIGTERM\); the 1 cell it held went back to the queue\n$/);
  assert.equal((await s.sql('stop', 'SELECT count(*)::int AS n FROM mode.claims')).rows[0].n, 0);
  const second = await modeAsync(path.join(tmp, 'stop-2'), 'worker', '--store', url, '--slots', '1').done;
  assert.equal(second.status, 0, second.stderr);
  assert.equal((await s.sql('stop', 'SELECT count(*)::int AS n FROM mode.cells')).rows[0].n, 2);
});
