/**
 * The sweep's scheduler: given the cells still to run and the state of their initial models and
 * control arms, what runs next. Pure (no processes, no store, no clock), so it is unit-tested alone
 * and reused by any runner: the local worker pool today, distributed workers later.
 *
 * Rules:
 * - initial models that must be trained go first, each once;
 * - a cell runs once its model is ready; a cell whose model failed fails with the model's message;
 * - cells of one control key share one control arm (random selection at the same budget): a stored
 *   control is reused; otherwise the first cell of the key computes it, and the key's other cells
 *   wait for it while cells of other keys run; if that cell fails, the next one computes it;
 * - cells are taken in plan order, skipping those that must wait.
 */
import type { Cell } from './experiment-config.js';

export type Job =
  | { readonly kind: 'train'; readonly modelKey: string }
  /** `control`: reuse the stored control arm, or compute it (and store it with the cell). */
  | { readonly kind: 'cell'; readonly cell: Cell; readonly control: 'stored' | 'compute' };

/** Where a model stands at the start: trained already, to train, or unusable (its data failed). */
export type ModelStart =
  { readonly status: 'ready' } | { readonly status: 'train' } | { readonly status: 'failed'; readonly message: string };

export interface SchedulerStart {
  /** Cells to run, in plan order. */
  readonly cells: readonly Cell[];
  /** The state of each model key the cells need. */
  readonly models: ReadonlyMap<string, ModelStart>;
  /** Control keys whose arm is already stored. */
  readonly storedControls: ReadonlySet<string>;
}

/** A cell that failed without running, and why. */
export interface CellFailure {
  readonly cell: Cell;
  readonly message: string;
}

export interface SchedulerCounts {
  /** Cells queued, not started. */
  readonly queued: number;
  /** Jobs started and not finished (trains and cells). */
  readonly running: number;
  readonly trainsQueued: number;
}

type ModelState = { status: 'ready' } | { status: 'pending' } | { status: 'training' } | { status: 'failed'; message: string };

export class SweepScheduler {
  private readonly queue: Cell[];
  private readonly trains: string[] = [];
  private readonly models = new Map<string, ModelState>();
  private readonly storedControls: Set<string>;
  private readonly controlsRunning = new Set<string>();
  private running = 0;

  /** Cells whose model failed before anything ran are failed at once: take them with `failedAtStart`. */
  private readonly startFailures: CellFailure[];

  constructor(start: SchedulerStart) {
    this.queue = [...start.cells];
    this.storedControls = new Set(start.storedControls);
    for (const cell of start.cells) {
      if (this.models.has(cell.modelKey)) continue;
      const model = start.models.get(cell.modelKey) ?? { status: 'train' };
      if (model.status === 'train') {
        this.models.set(cell.modelKey, { status: 'pending' });
        this.trains.push(cell.modelKey);
      } else this.models.set(cell.modelKey, model.status === 'ready' ? { status: 'ready' } : { status: 'failed', message: model.message });
    }
    this.startFailures = this.failCellsOfFailedModels();
  }

  /** Cells that failed at the start because their model could not be made. */
  failedAtStart(): CellFailure[] {
    return this.startFailures.splice(0);
  }

  /** The next job to start, or null when nothing can start now. */
  next(): Job | null {
    const modelKey = this.trains.shift();
    if (modelKey !== undefined) {
      this.models.set(modelKey, { status: 'training' });
      this.running += 1;
      return { kind: 'train', modelKey };
    }
    const index = this.queue.findIndex((c) => this.models.get(c.modelKey)?.status === 'ready' && !this.controlsRunning.has(c.controlKey));
    if (index < 0) return null;
    const [cell] = this.queue.splice(index, 1) as [Cell];
    this.running += 1;
    if (this.storedControls.has(cell.controlKey)) return { kind: 'cell', cell, control: 'stored' };
    this.controlsRunning.add(cell.controlKey);
    return { kind: 'cell', cell, control: 'compute' };
  }

  /** A training job ended. A failed model fails every queued cell that needs it (returned). */
  trained(modelKey: string, outcome: { readonly ok: true } | { readonly ok: false; readonly message: string }): CellFailure[] {
    this.running -= 1;
    if (outcome.ok) {
      this.models.set(modelKey, { status: 'ready' });
      return [];
    }
    this.models.set(modelKey, { status: 'failed', message: outcome.message });
    return this.failCellsOfFailedModels();
  }

  /** A cell job ended; `ok` with the cell (and any control it computed) stored, or failed. */
  cellFinished(job: Extract<Job, { kind: 'cell' }>, ok: boolean): void {
    this.running -= 1;
    if (job.control !== 'compute') return;
    this.controlsRunning.delete(job.cell.controlKey);
    if (ok) this.storedControls.add(job.cell.controlKey);
  }

  /**
   * Queued cells that can never start: nothing runs, no model is being made, and no queued cell's
   * model is ready. They are removed from the queue and returned, to be failed.
   */
  stuck(): Cell[] {
    if (this.running > 0 || this.trains.length > 0 || this.queue.some((c) => this.models.get(c.modelKey)?.status === 'ready')) return [];
    return this.queue.splice(0);
  }

  /**
   * Gives up on everything not started (workers cannot start, or the store refused the engine):
   * returns the queued cells and model keys.
   */
  abandon(): { cells: Cell[]; models: string[] } {
    const models = this.trains.splice(0);
    for (const key of models) this.models.set(key, { status: 'failed', message: 'abandoned' });
    return { cells: this.queue.splice(0), models };
  }

  /** Whether work is left: queued trains or cells, or jobs running. */
  get busy(): boolean {
    return this.running > 0 || this.trains.length > 0 || this.queue.length > 0;
  }

  counts(): SchedulerCounts {
    return { queued: this.queue.length, running: this.running, trainsQueued: this.trains.length };
  }

  private failCellsOfFailedModels(): CellFailure[] {
    const failures: CellFailure[] = [];
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const cell = this.queue[i]!;
      const model = this.models.get(cell.modelKey);
      if (model?.status !== 'failed') continue;
      this.queue.splice(i, 1);
      failures.unshift({ cell, message: `initial model failed: ${model.message}` });
    }
    return failures;
  }
}
