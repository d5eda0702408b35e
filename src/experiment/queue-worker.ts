/**
 * `mode worker`: pulls cells from a PostgreSQL store's queue (queue.ts) and runs them on this
 * machine's worker processes (worker-pool.ts, `slots` of them), until the queue holds no cell that is
 * waiting or running anywhere. A cell's rows and its job's completion commit in one transaction; a
 * cell that fails is given back to the queue to be retried (up to pg-boss's retry limit), and so is
 * every cell whose worker stops refreshing its claims (kill -9, a lost machine).
 *
 * An initial model is trained once per key for every machine: a worker that needs a model the store
 * lacks takes the model's lock (a PostgreSQL advisory lock, released if the worker dies), trains it
 * and stores its files; the others wait for the files and fetch them. A control arm stored by another
 * cell is reused; two cells of one control key that start at the same moment both compute it (the
 * same numbers; the first stored is kept).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type PgBoss from 'pg-boss';
import { ModeError } from '../core/errors.js';
import { modelConfigOf, type Cell, type ModelConfig } from './experiment-config.js';
import { beat, claimJobs, jobCell, openJobs, openQueue, settleJob, BEAT_INTERVAL_MS } from './queue.js';
import type { ResultStore } from './store.js';
import { modelFolder } from './sweep-plan.js';
import { cellRecord, datasetSpecs, modelLabel, repairTask, trainTask, workerGroup } from './sweep-tasks.js';
import { runPool, type Outcome, type PoolSource } from './worker-pool.js';

export interface QueueWorkerOptions {
  /** A PostgreSQL store (postgres://...). */
  readonly store: string;
  /** Worker processes on this machine. */
  readonly slots: number;
  readonly engine: string;
  /** Replaces a worker after a cell once its peak resident memory passes this many MiB, and at another kind of model (worker-pool.ts; 0: never). */
  readonly restartAboveMiB?: number;
  readonly onEvent?: (event: QueueWorkerEvent) => void;
  /** Stops the worker (Ctrl-C): the cells it holds go back to the queue at once, and it rejects with the reason. */
  readonly signal?: AbortSignal;
}

export type QueueWorkerEvent =
  | { readonly type: 'start'; readonly worker: string; readonly slots: number }
  | { readonly type: 'model-done'; readonly label: string; readonly seconds: number }
  | { readonly type: 'model-failed'; readonly label: string; readonly message: string }
  | { readonly type: 'cell-done'; readonly label: string; readonly seconds: number; readonly stored: boolean }
  | { readonly type: 'cell-failed'; readonly label: string; readonly message: string }
  | { readonly type: 'given-back'; readonly keys: readonly string[] }
  | { readonly type: 'warning'; readonly message: string };

export interface QueueWorkerResult {
  readonly worker: string;
  /** Cells this worker ran and stored. */
  readonly ran: number;
  readonly failed: number;
  readonly seconds: number;
}

/** A job this worker claimed, with its cell. */
interface Job {
  readonly id: string;
  readonly cell: Cell;
}
type Work = { readonly kind: 'cell'; readonly job: Job } | { readonly kind: 'train'; readonly key: string; readonly model: ModelConfig };
/** Where a model is: here, being trained here (with the lock), or being trained by another process. */
type ModelState = 'ready' | 'training' | 'elsewhere' | { readonly failed: string };

/** How long an idle worker waits before asking the queue again, ms. */
const IDLE_POLL_MS = 1_000;

export async function runQueueWorker(options: QueueWorkerOptions): Promise<QueueWorkerResult> {
  const started = performance.now();
  const emit = options.onEvent ?? (() => {});
  const { store, boss } = await openQueue(options.store, 'mode worker');
  const worker = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  emit({ type: 'start', worker, slots: options.slots });
  const source = new QueueSource(boss, store, worker, options, emit);
  const timer = setInterval(() => void source.tick(), BEAT_INTERVAL_MS);
  const stopped = new Promise<never>((_resolve, reject) => {
    options.signal?.addEventListener('abort', () => {
      const reason = String(options.signal!.reason ?? 'stopped');
      void source
        .giveBackAll(`its worker was stopped (${reason})`)
        .then((n) =>
          reject(
            new ModeError('usage', `mode worker stopped (${reason}); the ${n} cell${n === 1 ? '' : 's'} it held went back to the queue`),
          ),
        );
    });
  });
  try {
    await Promise.race([
      runPool<Work>(source, {
        size: options.slots,
        engine: options.engine,
        threads: Math.max(1, Math.floor(os.availableParallelism() / options.slots)),
        // A worker on another engine than the store's is refused before it takes a cell.
        onReady: (engine) => store.claimEngine(engine),
        ...(options.restartAboveMiB === undefined ? {} : { restartAboveMiB: options.restartAboveMiB }),
      }),
      stopped,
    ]);
    return { worker, ran: source.ran, failed: source.failed, seconds: (performance.now() - started) / 1000 };
  } finally {
    clearInterval(timer);
    await source.releaseLocks();
    await boss.stop({ graceful: false, wait: true });
    await store.close();
  }
}

/** The pool's source: claimed jobs waiting for their model, the models, and the queue's state. */
class QueueSource implements PoolSource<Work> {
  ran = 0;
  failed = 0;
  private readonly waiting: Job[] = [];
  /** Every job this worker has claimed and not settled, by id. */
  private readonly held = new Map<string, Job>();
  private readonly trains: Work[] = [];
  private readonly models = new Map<string, ModelState>();
  private readonly modelLocks = new Map<string, () => Promise<void>>();
  private running = 0;
  private fetching = false;
  /** A worker process is ready (its engine accepted by the store): only then are cells taken. */
  private started = false;
  private drained = false;
  private wake: () => void = () => {};

  constructor(
    private readonly boss: PgBoss,
    private readonly store: ResultStore,
    private readonly worker: string,
    private readonly options: QueueWorkerOptions,
    private readonly emit: (event: QueueWorkerEvent) => void,
  ) {}

  wakeWith(wake: () => void): void {
    this.wake = wake;
  }

  next(): { work: Work; task: ReturnType<typeof trainTask> | Promise<ReturnType<typeof repairTask>>; group: string } | null {
    const train = this.trains.shift();
    if (train !== undefined && train.kind === 'train') {
      this.running += 1;
      return { work: train, task: this.trainRequest(train.key, train.model), group: workerGroup(train.model) };
    }
    const i = this.waiting.findIndex((job) => this.models.get(job.cell.modelKey) === 'ready');
    if (i >= 0) {
      const [job] = this.waiting.splice(i, 1);
      const cell = job!.cell;
      this.running += 1;
      return {
        work: { kind: 'cell', job: job! },
        task: this.store
          .control(cell.controlKey)
          .then((control) => repairTask(cell, modelFolder(this.options.store, cell.modelKey), control)),
        group: workerGroup(cell.config),
      };
    }
    this.started = true;
    void this.fetch();
    return null;
  }

  busy(): boolean {
    return !this.drained || this.running > 0 || this.waiting.length > 0 || this.trains.length > 0;
  }

  idle(): void {
    // Nothing to do: a ready slot asks next(), which fetches; before any is ready (the engine not yet accepted), nothing is taken.
  }

  cannotStart(reason: string): void {
    // This machine cannot run cells: give back what it claimed, for the others.
    const jobs = this.waiting.splice(0);
    this.drained = true;
    void Promise.all(jobs.map((job) => this.giveBack(job, reason)));
  }

  async finished(work: Work, outcome: Outcome): Promise<void> {
    this.running -= 1;
    if (work.kind === 'train') await this.modelFinished(work.key, work.model, outcome);
    else await this.cellFinished(work.job, outcome);
    this.wake();
  }

  /** Every few seconds: refresh the claims and give back stale ones, look for models trained elsewhere, ask the queue. */
  async tick(): Promise<void> {
    try {
      const givenBack = await beat(this.boss, this.store, this.worker);
      if (givenBack.length > 0) this.emit({ type: 'given-back', keys: givenBack });
      for (const [key, state] of this.models) {
        if (state !== 'elsewhere') continue;
        const job = this.waiting.find((j) => j.cell.modelKey === key);
        if (job === undefined) this.models.delete(key);
        else await this.resolveModel(key, modelConfigOf(job.cell.config));
      }
    } catch (error) {
      this.emit({ type: 'warning', message: `could not refresh the queue (${(error as Error).message}); retrying` });
    }
    void this.fetch();
    this.wake();
  }

  /** Stops taking cells and gives back every cell held (waiting or running); resolves to how many. */
  async giveBackAll(reason: string): Promise<number> {
    this.drained = true;
    this.waiting.splice(0);
    const jobs = [...this.held.values()];
    for (const job of jobs) await this.giveBack(job, reason).catch(() => undefined);
    return jobs.length;
  }

  async releaseLocks(): Promise<void> {
    for (const release of this.modelLocks.values()) await release();
    this.modelLocks.clear();
  }

  /** Claims as many jobs as there are free slots; notices when the queue has nothing left anywhere. */
  private async fetch(): Promise<void> {
    const free = this.options.slots - this.running - this.waiting.length - this.trains.length;
    if (!this.started || this.fetching || this.drained || free <= 0) return;
    this.fetching = true;
    try {
      const jobs = (await claimJobs(this.boss, this.store, this.worker, free)).map((job) => ({ id: job.id, cell: jobCell(job) }));
      for (const job of jobs) {
        this.held.set(job.id, job);
        this.waiting.push(job);
        const { modelKey, config } = job.cell;
        if (!this.models.has(modelKey)) await this.resolveModel(modelKey, modelConfigOf(config));
        else this.failIfModelFailed(job);
      }
      if (jobs.length === 0 && this.running === 0 && this.waiting.length === 0 && this.trains.length === 0) {
        if ((await openJobs(this.store)) === 0) this.drained = true;
        else setTimeout(() => this.wake(), IDLE_POLL_MS);
      }
    } catch (error) {
      this.emit({ type: 'warning', message: `could not take cells from the queue (${(error as Error).message}); retrying` });
      setTimeout(() => this.wake(), IDLE_POLL_MS);
    } finally {
      this.fetching = false;
    }
    this.wake();
  }

  /** Finds a model here or in the store; else trains it (taking its lock) or waits for the process that holds the lock. */
  private async resolveModel(key: string, model: ModelConfig): Promise<void> {
    const folder = modelFolder(this.options.store, key);
    if (existsSync(path.join(folder, 'manifest.json')) || (await this.store.fetchModel(key, folder))) {
      this.models.set(key, 'ready');
      return;
    }
    if (this.models.get(key) === 'training') return;
    const release = await this.store.tryLock(`model:${key}`);
    if (release === null) {
      this.models.set(key, 'elsewhere');
      return;
    }
    // Trained by another process between our look and our lock?
    if (await this.store.fetchModel(key, folder)) {
      await release();
      this.models.set(key, 'ready');
      return;
    }
    this.modelLocks.set(key, release);
    this.models.set(key, 'training');
    this.trains.push({ kind: 'train', key, model });
  }

  private async trainRequest(key: string, model: ModelConfig): Promise<ReturnType<typeof trainTask>> {
    const specOf = await datasetSpecs([model], this.options.store);
    const spec = specOf(model);
    if (spec instanceof Error) throw new Error(`class subset data: ${spec.message}`);
    return trainTask(model, specOf, this.options.engine, modelFolder(this.options.store, key));
  }

  private async modelFinished(key: string, model: ModelConfig, outcome: Outcome): Promise<void> {
    const label = modelLabel(model);
    try {
      if (outcome.type === 'done') {
        await this.store.recordModel(key, model, modelFolder(this.options.store, key), outcome.seconds);
        this.models.set(key, 'ready');
        this.emit({ type: 'model-done', label, seconds: outcome.seconds });
      } else {
        this.models.set(key, { failed: outcome.message });
        this.emit({ type: 'model-failed', label, message: outcome.message });
      }
    } finally {
      await this.modelLocks.get(key)?.();
      this.modelLocks.delete(key);
    }
    for (const job of [...this.waiting]) this.failIfModelFailed(job);
  }

  /** A job whose model failed here fails too (the queue retries it, maybe on a machine where it trains). */
  private failIfModelFailed(job: Job): void {
    const state = this.models.get(job.cell.modelKey);
    if (typeof state !== 'object') return;
    this.waiting.splice(this.waiting.indexOf(job), 1);
    void this.fail(job, `initial model failed: ${state.failed}`, null);
  }

  private async cellFinished(job: Job, outcome: Outcome): Promise<void> {
    const cell = job.cell;
    if (outcome.type !== 'done' || outcome.json === undefined) {
      await this.fail(
        job,
        outcome.type === 'done' ? 'the worker sent no result' : outcome.message,
        outcome.type === 'failed' ? outcome.seconds : null,
      );
      return;
    }
    try {
      const stored = await this.store.recordCell(cellRecord(cell, { ...outcome, json: outcome.json }), (tx) =>
        settleJob(this.boss, tx, job.id, { ok: true }),
      );
      this.held.delete(job.id);
      this.ran += 1;
      this.emit({ type: 'cell-done', label: cell.label, seconds: outcome.seconds, stored });
    } catch (error) {
      await this.fail(job, `could not store the result: ${(error as Error).message}`, outcome.seconds);
    }
  }

  /** Records a failed attempt and gives the job back to the queue (retried up to its limit). */
  private async fail(job: Job, message: string, seconds: number | null): Promise<void> {
    this.failed += 1;
    this.emit({ type: 'cell-failed', label: job.cell.label, message });
    try {
      await this.store.recordFailure(job.cell.key, job.cell.label, message, seconds);
      await this.giveBack(job, message);
    } catch (error) {
      this.emit({ type: 'warning', message: `could not record the failure of ${job.cell.label} (${(error as Error).message})` });
    }
  }

  private async giveBack(job: Job, message: string): Promise<void> {
    await this.store.transaction((tx) => settleJob(this.boss, tx, job.id, { ok: false, message }));
    this.held.delete(job.id);
  }
}
