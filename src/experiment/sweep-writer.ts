/**
 * The sweep's store writer: records what the workers finish (trained models, cells with the control
 * arm they computed, failures) in the result store, keeps the counts, and tells the progress events.
 * A cell is written in one transaction (ResultStore.recordCell); one that cannot be written is
 * recorded as failed, so it runs again next time. Writes are asynchronous (the store may be a
 * database server); the counts change at once.
 */
import type { Cell, ModelConfig } from './experiment-config.js';
import type { ResultStore } from './store.js';
import type { SweepPlan } from './sweep-plan.js';
import { cellRecord } from './sweep-tasks.js';
import type { Outcome } from './worker-pool.js';

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
  | {
      readonly type: 'cell-done';
      readonly cell: Cell;
      readonly seconds: number;
      readonly counts: SweepCounts;
      readonly etaSeconds: number | null;
    }
  | {
      readonly type: 'cell-failed';
      readonly cell: Cell;
      readonly message: string;
      readonly counts: SweepCounts;
      readonly etaSeconds: number | null;
    };

export class SweepWriter {
  done = 0;
  readonly failures: { key: string; label: string; message: string }[] = [];
  private running = 0;
  private readonly pending: Promise<void>[] = [];
  private writeError: unknown;

  constructor(
    private readonly store: ResultStore,
    /** Cells this sweep runs. */
    private readonly total: number,
    private readonly emit: (event: SweepEvent) => void,
    /** performance.now() at the sweep's start, for the ETA. */
    private readonly started: number,
  ) {}

  counts(): SweepCounts {
    const failed = this.failures.length;
    return { total: this.total, done: this.done, running: this.running, failed, left: this.total - this.done - failed };
  }

  async modelTrained(key: string, model: ModelConfig, dir: string, label: string, seconds: number): Promise<void> {
    await this.store.recordModel(key, model, dir, seconds);
    this.emit({ type: 'model-done', key, label, seconds });
  }

  modelFailed(key: string, label: string, message: string): void {
    this.emit({ type: 'model-failed', key, label, message });
  }

  cellStarted(cell: Cell): void {
    this.running += 1;
    this.emit({ type: 'cell-start', cell, counts: this.counts() });
  }

  /** A started cell ended: stores it (and the control it computed), or records why it failed. Resolves to whether it is stored. */
  async finishCell(cell: Cell, outcome: Outcome): Promise<boolean> {
    this.running -= 1;
    if (outcome.type !== 'done' || outcome.json === undefined) {
      await this.failCell(
        cell,
        outcome.type === 'done' ? 'the worker sent no result' : outcome.message,
        outcome.type === 'failed' ? outcome.seconds : null,
      );
      return false;
    }
    try {
      await this.store.recordCell(cellRecord(cell, { ...outcome, json: outcome.json }));
    } catch (error) {
      await this.failCell(cell, `could not store the result: ${(error as Error).message}`, outcome.seconds);
      return false;
    }
    this.done += 1;
    this.emit({ type: 'cell-done', cell, seconds: outcome.seconds, counts: this.counts(), etaSeconds: this.eta() });
    return true;
  }

  /** Records a failed cell (it is not done, so the same sweep runs it again); flush() waits for the record. */
  failCell(cell: Cell, message: string, seconds: number | null): Promise<void> {
    this.failures.push({ key: cell.key, label: cell.label, message });
    const written = this.store.recordFailure(cell.key, cell.label, message, seconds);
    this.pending.push(written.catch((error: unknown) => void (this.writeError ??= error)));
    this.emit({ type: 'cell-failed', cell, message, counts: this.counts(), etaSeconds: this.eta() });
    return written;
  }

  /** Waits for the failure records written so far; rejects with the first that could not be written. */
  async flush(): Promise<void> {
    await Promise.all(this.pending);
    if (this.writeError !== undefined) throw this.writeError;
  }

  private eta(): number | null {
    const finished = this.done + this.failures.length;
    if (finished === 0) return null;
    return ((performance.now() - this.started) / 1000 / finished) * this.counts().left;
  }
}
