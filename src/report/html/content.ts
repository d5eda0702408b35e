/** What a report page is made of: the documents and results read by `mode report` / `mode serve`. */
import type { InputShape } from '../../core/data-types.js';
import type { ExperimentResults } from '../../experiment/results.js';
import type { StoredCell } from '../../experiment/store.js';
import type { MapName } from '../../analysis/index.js';
import type { MetricName } from '../../select/metrics.js';
import type { AnalysisDoc, RepairDoc } from '../report-docs.js';

/** One pool input in a gallery: its pool index, its score under the metric, its pixels, and the model's prediction. */
export interface GalleryPick {
  readonly index: number;
  readonly score: number;
  readonly image: Float32Array;
  readonly predicted: number;
}

export interface MetricGallery {
  readonly metric: MetricName;
  /** Highest scores first. */
  readonly most: readonly GalleryPick[];
  /** Lowest scores first. */
  readonly least: readonly GalleryPick[];
}

/** The pool inputs of one buggy label ranked by similarity to one of its input-space maps, under every metric. */
export interface LabelGalleries {
  readonly label: number;
  readonly map: MapName;
  /** The reference: the map in input space (mean of the validation inputs behind it). */
  readonly reference: Float32Array;
  /** Validation inputs behind the reference map. */
  readonly referenceCount: number;
  /** Pool inputs of the label that were ranked. */
  readonly candidates: number;
  readonly perMetric: readonly MetricGallery[];
}

export interface GalleriesContent {
  readonly inputShape: InputShape;
  readonly classNames: readonly string[];
  readonly labels: readonly LabelGalleries[];
}

export interface StoreContent {
  readonly file: string;
  readonly cells: readonly StoredCell[];
  readonly failures: number;
  /** The slides' table on test accuracy, and on the mean test recall of the labels buggy at the start. */
  readonly accuracy: ExperimentResults;
  readonly buggy: ExperimentResults;
}

export interface ReportContent {
  readonly title: string;
  /** Where it was read from, as given. */
  readonly source: string;
  readonly analysis: AnalysisDoc | null;
  readonly repair: RepairDoc | null;
  readonly galleries: GalleriesContent | null;
  readonly store: StoreContent | null;
  /** Things the report could not show and why (one sentence each). */
  readonly notes: readonly string[];
}
