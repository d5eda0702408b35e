/**
 * The plan of a sweep: which cells of an experiment a store still lacks, and the initial models they
 * need, without running anything. Also where a store keeps its models and class-subset data.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ClassSubset } from './class-subset.js';
import { expandCells, hashKey, type Cell, type CellFilter, type ExperimentConfig } from './experiment-config.js';
import { unavailableDataset } from './presets.js';
import { describeStore, storeWorkFolder } from './store-location.js';

export interface SweepPlan {
  /** The store as messages name it (no password). */
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

/**
 * Where a store keeps its initial models (`<folder>/<key>/`) and class-subset data (`<folder>/data/<key>/`) on
 * this machine: `<file>.models` for SQLite, a folder of the user's cache for PostgreSQL (storeWorkFolder).
 */
export const modelsFolder = (store: string): string => storeWorkFolder(store);
export const modelFolder = (store: string, key: string): string => path.join(modelsFolder(store), key);
export const dataFolder = (store: string, dataset: string, k: ClassSubset): string =>
  path.join(modelsFolder(store), 'data', hashKey({ kind: 'class-subset', dataset, k }));

function partition(
  cells: readonly Cell[],
  exists: (file: string) => boolean,
): { runnable: Cell[]; skipped: { reason: string; cells: number }[] } {
  const skipped = new Map<string, number>();
  const runnable = cells.filter((c) => {
    const reason = unavailableDataset(c.config.dataset, exists);
    if (reason === null) return true;
    skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
    return false;
  });
  return { runnable, skipped: [...skipped].map(([reason, n]) => ({ reason, cells: n })) };
}

export interface PlanOptions {
  /** Keys of the cells the store holds (none when not given). */
  readonly doneKeys?: ReadonlySet<string>;
  readonly where?: CellFilter;
  /** Whether a file exists (installed datasets, trained models); the file system's by default. */
  readonly exists?: (file: string) => boolean;
}

/** The plan of a sweep against a store that holds `doneKeys`, without running anything. */
export function planSweep(config: ExperimentConfig, store: string, options: PlanOptions = {}): SweepPlan {
  const exists = options.exists ?? existsSync;
  const all = expandCells(config);
  const where = options.where;
  const chosen = where === undefined ? all : all.filter((c) => where(c));
  const { runnable, skipped } = partition(chosen, exists);
  const done = options.doneKeys ?? new Set<string>();
  const missing = runnable.filter((c) => !done.has(c.key));
  const models = new Set(missing.map((c) => c.modelKey));
  const modelsToTrain = [...models].filter((k) => !exists(path.join(modelFolder(store, k), 'manifest.json'))).length;
  return {
    store: describeStore(store),
    cells: runnable,
    skipped,
    excluded: all.length - chosen.length,
    alreadyDone: runnable.length - missing.length,
    missing,
    models: models.size,
    modelsToTrain,
  };
}
