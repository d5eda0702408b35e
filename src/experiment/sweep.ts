/**
 * Runs an experiment's missing cells with worker processes. The parent plans (cells, the initial
 * models they need, class-subset data), owns the result store and writes each cell in one
 * transaction as its worker reports it; workers (worker.ts, one engine each) train models and run
 * repairs. Models needed by several cells are trained once, first; a cell starts as soon as its model
 * is ready. The control arm (random selection at the same budget) is computed by the first cell of
 * its control key and stored with it; the other cells of that key reuse it, so a cell costs one arm,
 * not two; while a control is being computed, cells that need it wait and others run. A failed cell is recorded as failed (not done) and the sweep goes on. Rerunning the same
 * sweep runs only the cells the store does not hold.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModeError, oneOf } from '../core/errors.js';
import { ENGINE_NAMES } from '../engine/index.js';
import type { TrainConfigInput } from '../model/train-config.js';
import { describeClassSubset, materializeClassSubset, type ClassSubset } from './class-subset.js';
import { expandCells, hashKey, modelConfigOf, repairInputOf, type Cell, type CellFilter, type ExperimentConfig, type ModelConfig } from './experiment-config.js';
import { unavailableDataset } from './presets.js';
import type { ArmResult } from './repair.js';
import { ResultStore, type RepairJson } from './store.js';
import type { WorkerReply, WorkerRequest } from './worker.js';

export interface SweepCounts {
  /** Cells this sweep runs (missing from the store when it started). */
  readonly total: number;
  readonly done: number;
  readonly running: number;
  readonly failed: number;
  /** Not finished yet (running included). */
  readonly left: number;
}

export type SweepEvent =
  | { readonly type: 'plan'; readonly plan: SweepPlan; readonly workers: number }
  | { readonly type: 'model-done'; readonly key: string; readonly label: string; readonly seconds: number }
  | { readonly type: 'model-failed'; readonly key: string; readonly label: string; readonly message: string }
  | { readonly type: 'cell-start'; readonly cell: Cell; readonly counts: SweepCounts }
  | { readonly type: 'cell-done'; readonly cell: Cell; readonly seconds: number; readonly counts: SweepCounts; readonly etaSeconds: number | null }
  | { readonly type: 'cell-failed'; readonly cell: Cell; readonly message: string; readonly counts: SweepCounts; readonly etaSeconds: number | null };

export interface SweepPlan {
  readonly store: string;
  /** Every cell of the experiment that can run here. */
  readonly cells: readonly Cell[];
  /** Cells left out, with the reason (a dataset that is not installed). */
  readonly skipped: readonly { readonly reason: string; readonly cells: number }[];
  /** Cells of the experiment left out by a --where filter (a later run without it runs them). */
  readonly excluded: number;
  readonly alreadyDone: number;
  /** Cells to run now, in order. */
  readonly missing: readonly Cell[];
  /** Initial models the missing cells need, and how many of them must be trained. */
  readonly models: number;
  readonly modelsToTrain: number;
}

export interface SweepOptions {
  /** Path of the SQLite result store (created when absent). */
  readonly store: string;
  /** Worker processes (at least 1). */
  readonly workers: number;
  /** Engine name for the workers (ENGINE_NAMES). */
  readonly engine: string;
  /** Runs only the cells that pass (mode experiment --where). */
  readonly where?: CellFilter;
  readonly onEvent?: (event: SweepEvent) => void;
}

export interface SweepResult {
  readonly plan: SweepPlan;
  readonly ran: number;
  readonly failed: readonly { readonly key: string; readonly label: string; readonly message: string }[];
  readonly seconds: number;
}

/** Where a store keeps its initial models (`<store>.models/<key>/`) and class-subset data (`<store>.models/data/<key>/`). */
export const modelsFolder = (store: string): string => `${path.resolve(store)}.models`;
export const modelFolder = (store: string, key: string): string => path.join(modelsFolder(store), key);
const dataFolder = (store: string, dataset: string, k: ClassSubset): string => path.join(modelsFolder(store), 'data', hashKey({ kind: 'class-subset', dataset, k }));

const WORKER_SCRIPT = fileURLToPath(new URL('./worker.js', import.meta.url));
/** Lines of a worker's stderr kept to explain a crash. */
const STDERR_TAIL_LINES = 20;
/** How long a worker may take to exit once disconnected before it is killed, ms. */
const WORKER_EXIT_GRACE_MS = 5_000;
/** Workers that die before they are ready, after which the sweep gives up instead of respawning. */
const MAX_START_FAILURES = 3;

function partition(cells: readonly Cell[], exists: (file: string) => boolean): { runnable: Cell[]; skipped: { reason: string; cells: number }[] } {
  const skipped = new Map<string, number>();
  const runnable = cells.filter((c) => {
    const reason = unavailableDataset(c.config.dataset, exists);
    if (reason === null) return true;
    skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
    return false;
  });
  return { runnable, skipped: [...skipped].map(([reason, n]) => ({ reason, cells: n })) };
}

/** The plan of a sweep against a store, without running anything (the store is only read, when it exists). */
export function planSweep(config: ExperimentConfig, store: string, options: { doneKeys?: ReadonlySet<string>; where?: CellFilter } = {}): SweepPlan {
  const all = expandCells(config);
  const where = options.where;
  const chosen = where === undefined ? all : all.filter((c) => where(c.config));
  const { runnable, skipped } = partition(chosen, existsSync);
  let done = options.doneKeys;
  if (done === undefined) {
    if (existsSync(store)) {
      const s = ResultStore.open(store, { readonly: true });
      try {
        done = s.doneKeys();
      } finally {
        s.close();
      }
    } else done = new Set();
  }
  const missing = runnable.filter((c) => !done.has(c.key));
  const models = new Set(missing.map((c) => c.modelKey));
  const modelsToTrain = [...models].filter((k) => !existsSync(path.join(modelFolder(store, k), 'manifest.json'))).length;
  return { store, cells: runnable, skipped, excluded: all.length - chosen.length, alreadyDone: runnable.length - missing.length, missing, models: models.size, modelsToTrain };
}

/** One sweep at a time per store: a lock file holding the owner's pid (a dead owner's lock is taken over). */
function acquireLock(store: string): () => void {
  const lock = `${path.resolve(store)}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(lock, 'utf8') === String(process.pid)) unlinkSync(lock);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new ModeError('usage', `result store ${store} is in use by a running sweep (process ${owner}); wait for it to finish, or delete ${lock} if that process is not a mode experiment`);
      }
      unlinkSync(lock);
    }
  }
  throw new ModeError('io', `cannot take the lock ${lock}; delete it if no sweep is running`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process nobody has reaped yet (a zombie) still answers signal 0: on Linux, ask /proc.
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return true;
  }
}

/** Staging folders a killed sweep left behind (writeOutputFolder's `.NAME.partial-*`). */
function removeStaleStaging(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) if (name.startsWith('.') && name.includes('.partial-')) rmSync(path.join(dir, name), { recursive: true, force: true });
}

type Job =
  | { readonly kind: 'train'; readonly id: number; readonly key: string; readonly model: ModelConfig; readonly dir: string }
  | { readonly kind: 'cell'; readonly id: number; readonly cell: Cell; readonly control: ArmResult | null };

interface WorkerSlot {
  readonly child: ChildProcess;
  ready: boolean;
  job: Job | null;
  readonly stderr: string[];
  exited: boolean;
}

export async function runSweep(config: ExperimentConfig, options: SweepOptions): Promise<SweepResult> {
  const started = performance.now();
  const emit = options.onEvent ?? (() => {});
  const storeFile = options.store;
  const release = acquireLock(storeFile);
  const store = ResultStore.open(storeFile);
  const workersWanted = Math.max(1, Math.floor(options.workers));
  const failures: { key: string; label: string; message: string }[] = [];
  try {
    const plan = planSweep(config, storeFile, { doneKeys: store.doneKeys(), ...(options.where === undefined ? {} : { where: options.where }) });
    removeStaleStaging(modelsFolder(storeFile));
    removeStaleStaging(path.join(modelsFolder(storeFile), 'data'));
    store.recordRun(config, plan.cells.length);
    const workerCount = Math.min(workersWanted, Math.max(plan.missing.length, 0));
    emit({ type: 'plan', plan, workers: workerCount });
    if (plan.missing.length === 0) return { plan, ran: 0, failed: [], seconds: (performance.now() - started) / 1000 };

    // Class-subset data, written once by the parent before any worker needs it; keyed by its folder.
    const datasetSpecs = new Map<string, string | Error>();
    for (const cell of plan.missing) {
      const { dataset, classSubset } = cell.config;
      if (classSubset === null) continue;
      const dir = dataFolder(storeFile, dataset, classSubset);
      if (datasetSpecs.has(dir)) continue;
      try {
        datasetSpecs.set(dir, await materializeClassSubset(dataset, classSubset, dir));
      } catch (error) {
        datasetSpecs.set(dir, error instanceof Error ? error : new Error(String(error)));
      }
    }
    const specOf = (m: ModelConfig): string | Error => (m.classSubset === null ? m.dataset : datasetSpecs.get(dataFolder(storeFile, m.dataset, m.classSubset))!);

    // Models: ready on disk, to train, or failed.
    let nextId = 0;
    const modelState = new Map<string, { status: 'ready' } | { status: 'pending' | 'training' } | { status: 'failed'; message: string }>();
    const trainJobs: Job[] = [];
    for (const cell of plan.missing) {
      if (modelState.has(cell.modelKey)) continue;
      const dir = modelFolder(storeFile, cell.modelKey);
      const model = modelConfigOf(cell.config);
      const spec = specOf(model);
      if (spec instanceof Error) modelState.set(cell.modelKey, { status: 'failed', message: `class subset data: ${spec.message}` });
      else if (existsSync(path.join(dir, 'manifest.json'))) modelState.set(cell.modelKey, { status: 'ready' });
      else {
        modelState.set(cell.modelKey, { status: 'pending' });
        trainJobs.push({ kind: 'train', id: nextId++, key: cell.modelKey, model, dir });
      }
    }
    // Controls: stored (loaded when a cell needs one) or being computed by a running cell.
    const storedControls = store.controlKeys();
    const controlsRunning = new Set<string>();
    const cellQueue: Cell[] = [...plan.missing];
    let done = 0;
    let running = 0;
    let failed = 0;
    const counts = (): SweepCounts => ({ total: plan.missing.length, done, running, failed, left: plan.missing.length - done - failed });
    const eta = (): number | null => {
      const finished = done + failed;
      if (finished === 0) return null;
      return ((performance.now() - started) / 1000 / finished) * counts().left;
    };
    const failCell = (cell: Cell, message: string, seconds: number | null): void => {
      failed += 1;
      failures.push({ key: cell.key, label: cell.label, message });
      store.recordFailure(cell.key, cell.label, message, seconds);
      emit({ type: 'cell-failed', cell, message, counts: counts(), etaSeconds: eta() });
    };
    // Cells whose model failed fail at once, with the model's message.
    const failCellsOfFailedModels = (): void => {
      const failing = cellQueue.filter((c) => modelState.get(c.modelKey)?.status === 'failed');
      for (const cell of failing) {
        cellQueue.splice(cellQueue.indexOf(cell), 1);
        const state = modelState.get(cell.modelKey) as { message: string };
        failCell(cell, `initial model failed: ${state.message}`, null);
      }
    };
    failCellsOfFailedModels();

    const nextJob = (): Job | null => {
      const train = trainJobs.shift();
      if (train !== undefined && train.kind === 'train') {
        modelState.set(train.key, { status: 'training' });
        return train;
      }
      const index = cellQueue.findIndex((c) => modelState.get(c.modelKey)?.status === 'ready' && !controlsRunning.has(c.controlKey));
      if (index < 0) return null;
      const [cell] = cellQueue.splice(index, 1) as [Cell];
      if (storedControls.has(cell.controlKey)) {
        const control = store.control(cell.controlKey);
        if (control !== null) return { kind: 'cell', id: nextId++, cell, control };
      }
      controlsRunning.add(cell.controlKey);
      return { kind: 'cell', id: nextId++, cell, control: null };
    };
    const requestOf = (job: Job): WorkerRequest => {
      if (job.kind === 'cell') {
        return { type: 'repair', id: job.id, modelDir: modelFolder(storeFile, job.cell.modelKey), input: repairInputOf(job.cell.config), ...(job.control === null ? {} : { control: job.control }) };
      }
      const m = job.model;
      const trainConfig: TrainConfigInput = {
        dataset: specOf(m) as string, model: m.model, epochs: m.epochs, seed: m.seed, scenarios: { ...m.scenario }, engine: oneOf('engine', options.engine, ENGINE_NAMES),
        ...(m.sizes.train !== undefined ? { trainSize: m.sizes.train } : {}),
        ...(m.sizes.validation !== undefined ? { validationSize: m.sizes.validation } : {}),
        ...(m.sizes.pool !== undefined ? { poolSize: m.sizes.pool } : {}),
      };
      return { type: 'train', id: job.id, config: trainConfig, dir: job.dir };
    };
    const subsetLabel = (subset: ClassSubset | null): string => (subset === null ? '' : typeof subset === 'number' ? ` classes<${subset}` : ` classes ${describeClassSubset(subset)}`);
    const modelLabel = (job: Extract<Job, { kind: 'train' }>): string => `${job.model.dataset}${subsetLabel(job.model.classSubset)} ${job.model.model} seed ${job.model.seed}`;

    const finishJob = (job: Job, reply: Extract<WorkerReply, { type: 'done' | 'failed' }> | { type: 'crashed'; message: string }): void => {
      if (job.kind === 'train') {
        if (reply.type === 'done') {
          modelState.set(job.key, { status: 'ready' });
          store.recordModel(job.key, job.model, job.dir, reply.seconds);
          emit({ type: 'model-done', key: job.key, label: modelLabel(job), seconds: reply.seconds });
        } else {
          modelState.set(job.key, { status: 'failed', message: reply.message });
          emit({ type: 'model-failed', key: job.key, label: modelLabel(job), message: reply.message });
          failCellsOfFailedModels();
        }
        return;
      }
      running -= 1;
      const cell = job.cell;
      if (job.control === null) controlsRunning.delete(cell.controlKey);
      if (reply.type === 'done' && reply.json !== undefined) {
        try {
          const control = job.control === null && reply.control !== undefined ? { key: cell.controlKey, arm: reply.control } : undefined;
          store.recordCell({ key: cell.key, modelKey: cell.modelKey, label: cell.label, config: cell.config, result: reply.json as unknown as RepairJson, seconds: reply.seconds, ...(control === undefined ? {} : { control }) });
          if (control !== undefined) storedControls.add(cell.controlKey);
        } catch (error) {
          failCell(cell, `could not store the result: ${(error as Error).message}`, reply.seconds);
          return;
        }
        done += 1;
        emit({ type: 'cell-done', cell, seconds: reply.seconds, counts: counts(), etaSeconds: eta() });
      } else {
        failCell(cell, reply.type === 'done' ? 'the worker sent no result' : reply.message, reply.type === 'failed' ? reply.seconds : null);
      }
    };

    const slots: WorkerSlot[] = [];
    // The cores shared out: 2 workers on 2 cores get one intra-op thread each, not two fighting for one core.
    const threadsPerWorker = Math.max(1, Math.floor(os.availableParallelism() / workerCount));
    let startFailures = 0;
    let fatal: Error | null = null;
    await new Promise<void>((resolve) => {
      const remaining = (): boolean => trainJobs.length > 0 || cellQueue.length > 0 || slots.some((s) => s.job !== null);
      const finishIfIdle = (): void => {
        if (!remaining()) resolve();
      };
      const dispatch = (): void => {
        for (const slot of slots) {
          if (!slot.ready || slot.job !== null || slot.exited) continue;
          const job = nextJob();
          if (job === null) break;
          slot.job = job;
          if (job.kind === 'cell') {
            running += 1;
            emit({ type: 'cell-start', cell: job.cell, counts: counts() });
          }
          slot.child.send(requestOf(job));
        }
        // Work that can never start (cells waiting on models that are not coming) ends the sweep.
        if (slots.every((s) => s.job === null) && trainJobs.length === 0 && cellQueue.length > 0 && !cellQueue.some((c) => modelState.get(c.modelKey)?.status === 'ready')) {
          for (const cell of cellQueue.splice(0)) failCell(cell, 'its initial model is not available', null);
        }
        finishIfIdle();
      };
      const spawn = (): void => {
        const child = fork(WORKER_SCRIPT, [options.engine, String(threadsPerWorker)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
        const slot: WorkerSlot = { child, ready: false, job: null, stderr: [], exited: false };
        slots.push(slot);
        child.stderr?.setEncoding('utf8');
        child.stderr?.on('data', (chunk: string) => {
          slot.stderr.push(...chunk.split('\n').filter((l) => l.trim() !== ''));
          slot.stderr.splice(0, Math.max(0, slot.stderr.length - STDERR_TAIL_LINES));
        });
        child.on('message', (reply: WorkerReply) => {
          if (reply.type === 'ready') {
            try {
              store.claimEngine(reply.engine);
              slot.ready = true;
            } catch (error) {
              // Another engine's store: nothing runs, nothing is recorded as failed.
              fatal = error instanceof Error ? error : new Error(String(error));
              trainJobs.splice(0);
              cellQueue.splice(0);
            }
          }
          else if (slot.job !== null && slot.job.id === reply.id) {
            const job = slot.job;
            slot.job = null;
            finishJob(job, reply);
          }
          dispatch();
        });
        const gone = (why: string): void => {
          if (slot.exited) return;
          slot.exited = true;
          slots.splice(slots.indexOf(slot), 1);
          const job = slot.job;
          slot.job = null;
          if (job !== null) {
            const tail = slot.stderr.at(-1);
            finishJob(job, { type: 'crashed', message: `worker ${why}${tail === undefined ? '' : `: ${tail}`}` });
          }
          if (!slot.ready) startFailures += 1;
          if (startFailures >= MAX_START_FAILURES) {
            // Workers that cannot even start (no engine) would be respawned forever: fail what is left instead.
            const reason = `workers cannot start (${why}${slot.stderr.at(-1) === undefined ? '' : `: ${slot.stderr.at(-1)}`})`;
            for (const t of trainJobs.splice(0)) if (t.kind === 'train') modelState.set(t.key, { status: 'failed', message: reason });
            for (const cell of cellQueue.splice(0)) failCell(cell, reason, null);
          } else if (remaining()) spawn();
          dispatch();
        };
        child.on('exit', (code, signal) => gone(signal !== null ? `killed by ${signal}` : `exited with code ${code}`));
        child.on('error', (error) => gone(`failed: ${error.message}`));
      };
      for (let i = 0; i < workerCount; i++) spawn();
      // A sweep with nothing left to run after failures resolves at once.
      dispatch();
    });
    // Everything is finished: workers exit when their IPC channel closes.
    await Promise.all(slots.map((s) => stopWorker(s)));
    if (fatal !== null) throw fatal;
    return { plan, ran: done, failed: failures, seconds: (performance.now() - started) / 1000 };
  } finally {
    store.close();
    release();
  }
}

async function stopWorker(slot: WorkerSlot): Promise<void> {
  if (slot.exited || slot.child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      slot.child.kill('SIGKILL');
      resolve();
    }, WORKER_EXIT_GRACE_MS);
    slot.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (slot.child.connected) slot.child.disconnect();
  });
}
