/** What a report page is made of: the documents and results read by `mode report` / `mode serve`. */
import type { BenchmarkSummary } from '../../experiment/benchmark.js';
import type { ExperimentResults, TableCurves } from '../../experiment/results.js';
import type { StoredCell } from '../../experiment/store.js';
import type { Galleries } from '../../select/galleries.js';
import type { AnalysisDoc } from '../../analysis/index.js';
import type { RepairDoc } from '../../experiment/repair-doc.js';
import type { QueueDoc } from '../../experiment/select-doc.js';

export interface StoreContent {
  readonly file: string;
  readonly cells: readonly StoredCell[];
  readonly failures: number;
  /** The slides' table on test accuracy, and on the mean test recall of the labels buggy at the start. */
  readonly accuracy: ExperimentResults;
  readonly buggy: ExperimentResults;
  /** Validation accuracy per iteration of each table of `accuracy`. */
  readonly curves: readonly TableCurves[];
  /** Statistics across the slices of a benchmark (on test, the buggy labels' recall), when the store holds more than one slice. */
  readonly benchmark: BenchmarkSummary | null;
}

export interface ReportContent {
  readonly title: string;
  /** Where it was read from, as given. */
  readonly source: string;
  readonly analysis: AnalysisDoc | null;
  readonly repair: RepairDoc | null;
  readonly galleries: Galleries | null;
  /** A labeling queue of `mode select`, with its contact sheet where it was written. */
  readonly queue: { readonly doc: QueueDoc; readonly sheet: Buffer | null } | null;
  readonly store: StoreContent | null;
  /** Things the report could not show and why (one sentence each). */
  readonly notes: readonly string[];
}
