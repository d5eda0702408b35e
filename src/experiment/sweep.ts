/**
 * Runs an experiment's missing cells with worker processes. The parent plans (cells, the initial
 * models they need, class-subset data), owns the result store and writes each cell in one
 * transaction as its worker reports it; workers (worker.ts, one engine each) train models and run
 * repairs. Models needed by several cells are trained once, first; a cell starts as soon as its model
 * is ready. The control arm (random selection at the same budget) is computed by the first cell of
 * its control key and stored with it; the other cells of that key reuse it, so a cell costs one arm,
 * not two; while a control is being computed, cells that need it wait and others run. A failed cell
 * is recorded as failed (not done) and the sweep goes on. Rerunning the same sweep runs only the
 * cells the store does not hold.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { modelConfigOf, type CellFilter, type ExperimentConfig } from './experiment-config.js';
import { SweepScheduler, type Job, type ModelStart } from './scheduler.js';
import { ResultStore } from './store.js';
import { modelFolder, modelsFolder, planSweep, type SweepPlan } from './sweep-plan.js';
import { datasetSpecs, modelLabel, repairTask, trainTask, workerGroup } from './sweep-tasks.js';
import { SweepWriter, type SweepEvent } from './sweep-writer.js';
import { runPool, type Outcome } from './worker-pool.js';
import type { WorkerTask } from './worker.js';

export interface SweepOptions {
  /** The result store: an SQLite file (created when absent) or a postgres:// URL (store-location.ts). */
  readonly store: string;
  /** Worker processes (at least 1). */
  readonly workers: number;
  /** Engine name for the workers (ENGINE_NAMES). */
  readonly engine: string;
  /** Replaces a worker after a job once its peak resident memory passes this many MiB, and at another kind of model (worker-pool.ts; 0: never). */
  readonly restartAboveMiB?: number;
  /** Runs only the cells that pass (mode experiment --where). */
  readonly where?: CellFilter;
  readonly onEvent?: (event: SweepEvent) => void;
}

export interface SweepResult {
  readonly plan: SweepPlan;
  readonly ran: number;
  readonly failed: readonly { readonly key: string; readonly label: string; readonly message: string }[];
  readonly seconds: number;
  /** The largest peak resident memory of any worker, MiB (0 when no worker finished a job). */
  readonly workerPeakMiB: number;
  /** Workers replaced by fresh ones (at another kind of model or for their memory). */
  readonly workersRestarted: number;
}

/** Staging folders a killed sweep left behind (writeOutputFolder's `.NAME.partial-*`). */
function removeStaleStaging(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir))
    if (name.startsWith('.') && name.includes('.partial-')) rmSync(path.join(dir, name), { recursive: true, force: true });
}

export async function runSweep(config: ExperimentConfig, options: SweepOptions): Promise<SweepResult> {
  const started = performance.now();
  const emit = options.onEvent ?? (() => {});
  const storeFile = options.store;
  const store = await ResultStore.open(storeFile);
  let release: (() => Promise<void>) | null = null;
  try {
    release = await store.lock();
    const plan = planSweep(config, storeFile, {
      doneKeys: await store.doneKeys(),
      ...(options.where === undefined ? {} : { where: options.where }),
    });
    removeStaleStaging(modelsFolder(storeFile));
    removeStaleStaging(path.join(modelsFolder(storeFile), 'data'));
    await store.recordRun(config, plan.cells.length);
    const workerCount = Math.min(Math.max(1, Math.floor(options.workers)), plan.missing.length);
    emit({ type: 'plan', plan, workers: workerCount });
    if (plan.missing.length === 0)
      return { plan, ran: 0, failed: [], seconds: (performance.now() - started) / 1000, workerPeakMiB: 0, workersRestarted: 0 };

    const specOf = await datasetSpecs(
      plan.missing.map((c) => modelConfigOf(c.config)),
      storeFile,
    );
    const modelOf = new Map(plan.missing.map((c) => [c.modelKey, modelConfigOf(c.config)]));
    const models = new Map<string, ModelStart>();
    for (const [key, model] of modelOf) {
      const spec = specOf(model);
      if (spec instanceof Error) models.set(key, { status: 'failed', message: `class subset data: ${spec.message}` });
      else models.set(key, (await haveModel(store, storeFile, key)) ? { status: 'ready' } : { status: 'train' });
    }
    const scheduler = new SweepScheduler({ cells: plan.missing, models, storedControls: await store.controlKeys() });
    const writer = new SweepWriter(store, plan.missing.length, emit, started);
    for (const failure of scheduler.failedAtStart()) void writer.failCell(failure.cell, failure.message, null);

    const taskOf = async (job: Job): Promise<WorkerTask> => {
      if (job.kind === 'cell') {
        const control = job.control === 'stored' ? await store.control(job.cell.controlKey) : null;
        return repairTask(job.cell, modelFolder(storeFile, job.cell.modelKey), control);
      }
      return trainTask(modelOf.get(job.modelKey)!, specOf, options.engine, modelFolder(storeFile, job.modelKey));
    };
    let workerPeakMiB = 0;
    const finished = async (job: Job, outcome: Outcome): Promise<void> => {
      if (outcome.type !== 'crashed') workerPeakMiB = Math.max(workerPeakMiB, outcome.peakMiB);
      if (job.kind === 'train') {
        const model = modelOf.get(job.modelKey)!;
        if (outcome.type === 'done')
          await writer.modelTrained(job.modelKey, model, modelFolder(storeFile, job.modelKey), modelLabel(model), outcome.seconds);
        else writer.modelFailed(job.modelKey, modelLabel(model), outcome.message);
        const failures = scheduler.trained(job.modelKey, outcome.type === 'done' ? { ok: true } : { ok: false, message: outcome.message });
        for (const failure of failures) await writer.failCell(failure.cell, failure.message, null);
        return;
      }
      scheduler.cellFinished(job, await writer.finishCell(job.cell, outcome));
    };

    const pool = await runPool<Job>(
      {
        next: () => {
          const job = scheduler.next();
          if (job === null) return null;
          if (job.kind === 'cell') writer.cellStarted(job.cell);
          const group = workerGroup(job.kind === 'cell' ? job.cell.config : modelOf.get(job.modelKey)!);
          return { work: job, task: taskOf(job), group };
        },
        finished,
        busy: () => scheduler.busy,
        // Work that can never start (cells waiting on models that are not coming) ends the sweep.
        idle: () => {
          for (const cell of scheduler.stuck()) void writer.failCell(cell, 'its initial model is not available', null);
        },
        // Workers that cannot even start (no engine) would be respawned forever: fail what is left instead.
        cannotStart: (reason) => {
          for (const cell of scheduler.abandon().cells) void writer.failCell(cell, reason, null);
        },
      },
      {
        size: workerCount,
        engine: options.engine,
        // The cores shared out: 2 workers on 2 cores get one intra-op thread each, not two fighting for one core.
        threads: Math.max(1, Math.floor(os.availableParallelism() / workerCount)),
        // Another engine's store: nothing runs, nothing is recorded as failed.
        onReady: (engine) => store.claimEngine(engine),
        ...(options.restartAboveMiB === undefined ? {} : { restartAboveMiB: options.restartAboveMiB }),
      },
    );
    await writer.flush();
    const seconds = (performance.now() - started) / 1000;
    return { plan, ran: writer.done, failed: writer.failures, seconds, workerPeakMiB, workersRestarted: pool.restarted };
  } finally {
    await release?.();
    await store.close();
  }
}

/**
 * Whether a model is on this machine, or in the store's database (a PostgreSQL store shares the
 * models one machine trained: they are fetched into this machine's folder).
 */
async function haveModel(store: ResultStore, storeFile: string, key: string): Promise<boolean> {
  const folder = modelFolder(storeFile, key);
  if (existsSync(path.join(folder, 'manifest.json'))) return true;
  return store.fetchModel(key, folder);
}
