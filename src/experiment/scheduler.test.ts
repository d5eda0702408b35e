/** The sweep scheduler alone, without processes: models first, shared controls, failures, resume and --where through the plan. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { expandCells, parseExperimentConfig, parseWhere, type Cell } from './experiment-config.js';
import { SweepScheduler, type Job, type ModelStart } from './scheduler.js';
import { modelFolder, planSweep } from './sweep-plan.js';

/** 2 seeds x 3 strategies: per seed one model and one control key shared by the three cells. */
const CONFIG = parseExperimentConfig({
  datasets: ['synthetic:classes=3'],
  strategies: ['mode', 'targeted-random', 'entropy'],
  seeds: 2,
  batches: 20,
});
const CELLS = expandCells(CONFIG);

const models = (cells: readonly Cell[], status: (key: string) => ModelStart = () => ({ status: 'train' })): Map<string, ModelStart> =>
  new Map(cells.map((c) => [c.modelKey, status(c.modelKey)]));

/** Runs the scheduler to the end with `slots` jobs at a time, finishing the oldest running job first; returns the jobs in start order. */
function drain(scheduler: SweepScheduler, slots: number, outcome: (job: Job) => boolean = () => true): Job[] {
  const started: Job[] = [];
  const running: Job[] = [];
  for (;;) {
    while (running.length < slots) {
      const job = scheduler.next();
      if (job === null) break;
      started.push(job);
      running.push(job);
    }
    const job = running.shift();
    if (job === undefined) break;
    if (job.kind === 'train') scheduler.trained(job.modelKey, outcome(job) ? { ok: true } : { ok: false, message: 'boom' });
    else scheduler.cellFinished(job, outcome(job));
  }
  assert.equal(scheduler.busy, false);
  return started;
}

const cellJobs = (jobs: readonly Job[]) => jobs.filter((j): j is Extract<Job, { kind: 'cell' }> => j.kind === 'cell');

test('models train first, each once; then every cell runs once, in plan order where nothing waits', () => {
  const scheduler = new SweepScheduler({ cells: CELLS, models: models(CELLS), storedControls: new Set() });
  const jobs = drain(scheduler, 1);
  const trains = jobs.filter((j) => j.kind === 'train');
  assert.deepEqual(
    trains.map((j) => j.kind === 'train' && j.modelKey),
    [...new Set(CELLS.map((c) => c.modelKey))],
  );
  assert.ok(
    jobs.slice(0, trains.length).every((j) => j.kind === 'train'),
    'no cell starts before the models are queued for training',
  );
  assert.deepEqual(
    cellJobs(jobs).map((j) => j.cell.key),
    CELLS.map((c) => c.key),
    'one slot: plan order',
  );
});

test('shared controls: the first cell of a key computes it, the others of that key wait for it and then reuse it', () => {
  const ready = models(CELLS, () => ({ status: 'ready' }));
  const scheduler = new SweepScheduler({ cells: CELLS, models: ready, storedControls: new Set() });
  const first = scheduler.next();
  assert.ok(first?.kind === 'cell' && first.control === 'compute');
  // The second job is of the other seed's control key: the first key's cells wait while its control is computed.
  const second = scheduler.next();
  assert.ok(second?.kind === 'cell' && second.control === 'compute');
  assert.notEqual(second.cell.controlKey, first.cell.controlKey);
  assert.equal(scheduler.next(), null, 'both keys are being computed: nothing else can start');
  scheduler.cellFinished(first, true);
  const third = scheduler.next();
  assert.ok(third?.kind === 'cell' && third.control === 'stored' && third.cell.controlKey === first.cell.controlKey);
  // With 3 slots from the start, every key is computed exactly once and every other cell reuses it.
  const jobs = cellJobs(drain(new SweepScheduler({ cells: CELLS, models: ready, storedControls: new Set() }), 3));
  assert.equal(jobs.length, CELLS.length);
  const computed = jobs.filter((j) => j.control === 'compute').map((j) => j.cell.controlKey);
  assert.deepEqual(computed.sort(), [...new Set(CELLS.map((c) => c.controlKey))].sort());
  // Controls stored by an earlier sweep are reused from the start.
  const resumed = cellJobs(
    drain(new SweepScheduler({ cells: CELLS, models: ready, storedControls: new Set(CELLS.map((c) => c.controlKey)) }), 2),
  );
  assert.ok(resumed.every((j) => j.control === 'stored'));
});

test('a failed cell hands its control to the next cell of the key; a failed model fails its cells, the others run', () => {
  const ready = models(CELLS, () => ({ status: 'ready' }));
  let failOnce = true;
  const jobs = cellJobs(
    drain(new SweepScheduler({ cells: CELLS, models: ready, storedControls: new Set() }), 1, () => {
      const ok = !failOnce;
      failOnce = false;
      return ok;
    }),
  );
  assert.deepEqual(
    jobs.slice(0, 2).map((j) => j.control),
    ['compute', 'compute'],
    'the first cell failed, so the second computes the control',
  );
  assert.equal(jobs.slice(2).filter((j) => j.control === 'compute').length, 1, 'the other seed computes its own once');

  const [failing, other] = [...new Set(CELLS.map((c) => c.modelKey))];
  const scheduler = new SweepScheduler({ cells: CELLS, models: models(CELLS), storedControls: new Set() });
  const trains = [scheduler.next(), scheduler.next()];
  assert.ok(trains.every((j) => j?.kind === 'train'));
  const failures = scheduler.trained(failing!, { ok: false, message: 'out of memory' });
  assert.deepEqual(
    failures.map((f) => f.cell.key),
    CELLS.filter((c) => c.modelKey === failing).map((c) => c.key),
    'its cells fail, in plan order',
  );
  assert.ok(failures.every((f) => f.message === 'initial model failed: out of memory'));
  scheduler.trained(other!, { ok: true });
  const rest = cellJobs(drain(scheduler, 2));
  assert.deepEqual(
    rest.map((j) => j.cell.modelKey),
    CELLS.filter((c) => c.modelKey !== failing).map((c) => c.modelKey),
  );
});

test('models that failed before the start fail their cells at once; cells whose model never comes are stuck, not waited for', () => {
  const [bad] = [...new Set(CELLS.map((c) => c.modelKey))];
  const scheduler = new SweepScheduler({
    cells: CELLS,
    models: models(CELLS, (k) => (k === bad ? { status: 'failed', message: 'class subset data: no such label' } : { status: 'ready' })),
    storedControls: new Set(),
  });
  assert.deepEqual(
    scheduler.failedAtStart().map((f) => f.cell.modelKey),
    CELLS.filter((c) => c.modelKey === bad).map((c) => c.modelKey),
  );
  assert.deepEqual(scheduler.failedAtStart(), [], 'taken once');
  assert.equal(cellJobs(drain(scheduler, 2)).length, 3);

  // A cell whose model is neither ready nor to be trained (abandoned) can never start: stuck() hands it over once nothing runs.
  const waiting = new SweepScheduler({ cells: CELLS, models: models(CELLS), storedControls: new Set() });
  const train = waiting.next();
  assert.equal(train?.kind, 'train');
  assert.deepEqual(waiting.stuck(), [], 'a model is training: wait');
  const { cells, models: abandoned } = waiting.abandon();
  assert.equal(abandoned.length, 1, 'the queued training is dropped');
  assert.equal(cells.length, CELLS.length);
  if (train?.kind === 'train') waiting.trained(train.modelKey, { ok: true });
  assert.equal(waiting.busy, false);
});

test('resume and --where: the plan leaves out done cells and filtered ones, and trains only models not on disk', () => {
  const store = '/nowhere/s.sqlite';
  const done = new Set([CELLS[0]!.key, CELLS[1]!.key]);
  const trained = new Set([path.join(modelFolder(store, CELLS[0]!.modelKey), 'manifest.json')]);
  const exists = (file: string): boolean => trained.has(file);
  const plan = planSweep(CONFIG, store, { doneKeys: done, exists });
  assert.deepEqual(
    plan.missing.map((c) => c.key),
    CELLS.slice(2).map((c) => c.key),
  );
  assert.equal(plan.alreadyDone, 2);
  assert.equal(plan.models, 2);
  assert.equal(plan.modelsToTrain, 1, "the first seed's model is on disk");
  const where = parseWhere(['strategy=entropy'], CELLS);
  const sliced = planSweep(CONFIG, store, { doneKeys: done, exists, where });
  assert.deepEqual(
    sliced.missing.map((c) => c.config.strategy),
    ['entropy', 'entropy'],
  );
  assert.equal(sliced.excluded, CELLS.length - 2);
  // Scheduling the resumed plan: one model to train, the cells of the other run at once.
  const scheduler = new SweepScheduler({
    cells: plan.missing,
    models: models(plan.missing, (k) =>
      exists(path.join(modelFolder(store, k), 'manifest.json')) ? { status: 'ready' } : { status: 'train' },
    ),
    storedControls: new Set([CELLS[0]!.controlKey]),
  });
  const jobs = drain(scheduler, 2);
  assert.equal(jobs.filter((j) => j.kind === 'train').length, 1);
  assert.equal(cellJobs(jobs).length, plan.missing.length);
  assert.ok(
    cellJobs(jobs)
      .filter((j) => j.cell.controlKey === CELLS[0]!.controlKey)
      .every((j) => j.control === 'stored'),
    'the stored control of the done cells is reused',
  );
});
