/**
 * The slides' "most similar per metric" and "least similar per metric" pages: the pool inputs of a
 * buggy label ranked by their similarity to one of the label's heat maps in input space (the mean of
 * the validation inputs behind it, as the replication drew its maps), under every metric.
 * rankSimilarInputs is pure (arrays in, ranked pool indices out); poolGalleries runs it on a model
 * and its data, with the pictures and predictions the report shows.
 */
import type { InputShape, LabeledSet } from '../core/data-types.js';
import { usageError } from '../core/errors.js';
import { subsetUnchecked } from '../data/index.js';
import type { Model } from '../engine/index.js';
import { labelMaps, type MapName } from '../analysis/index.js';
import { argmaxRows } from '../model/metrics.js';
import type { RunData } from '../model/prepare-data.js';
import { METRIC_NAMES, scoreCandidates, type MetricName } from './metrics.js';

/** Inputs shown per gallery: one row of six fits a laptop screen at 3x MNIST size. */
const DEFAULT_GALLERY_SIZE = 6;

interface RankedGallery {
  readonly metric: MetricName;
  readonly most: readonly { index: number; score: number }[];
  readonly least: readonly { index: number; score: number }[];
}

export interface RankedGalleries {
  readonly label: number;
  readonly map: MapName;
  readonly reference: Float32Array;
  readonly referenceCount: number;
  readonly candidates: number;
  readonly perMetric: readonly RankedGallery[];
}

export interface GalleryOptions {
  readonly metrics?: readonly MetricName[];
  readonly size?: number;
}

/**
 * Ranks the pool inputs of `label` against map `map` of the label in input space, computed from the
 * validation set and the model's predictions on it. Ties go to the lower pool index.
 */
export function rankSimilarInputs(
  pool: LabeledSet,
  validation: LabeledSet,
  validationPredictions: Int32Array,
  label: number,
  map: MapName,
  options: GalleryOptions = {},
): RankedGalleries {
  const size = options.size ?? DEFAULT_GALLERY_SIZE;
  if (!(Number.isInteger(size) && size >= 1)) throw usageError(`gallery size ${size} is not a whole number >= 1`);
  if (validationPredictions.length !== validation.count)
    throw usageError(`${validationPredictions.length} predictions for ${validation.count} validation inputs`);
  const inputSize = pool.inputShape[0] * pool.inputShape[1] * pool.inputShape[2];
  const maps = labelMaps(
    'input-mean',
    {
      features: validation.x,
      size: inputSize,
      shape: [...pool.inputShape],
      labels: validation.y,
      predictions: validationPredictions,
      numClasses: validation.numClasses,
      headWeights: new Float32Array(0),
    },
    label,
  );
  const referenceCount =
    map === 'hc' || map === 'dhc' || map === 'dhm' ? maps.counts.correct : map === 'hm' ? maps.counts.missed : maps.counts.wronglyClaimed;
  const reference = maps.maps[map];
  const members: number[] = [];
  for (let i = 0; i < pool.count; i++) if (pool.y[i] === label) members.push(i);
  const rows = new Float32Array(members.length * inputSize);
  members.forEach((i, k) => rows.set(pool.x.subarray(i * inputSize, (i + 1) * inputSize), k * inputSize));
  const perMetric = (options.metrics ?? METRIC_NAMES).map((metric): RankedGallery => {
    if (members.length === 0) return { metric, most: [], least: [] };
    const scores = scoreCandidates(metric, rows, members.length, reference);
    const order = members.map((_, k) => k).sort((a, b) => scores[b]! - scores[a]! || members[a]! - members[b]!);
    const pick = (k: number): { index: number; score: number } => ({ index: members[k]!, score: scores[k]! });
    const least = members.map((_, k) => k).sort((a, b) => scores[a]! - scores[b]! || members[a]! - members[b]!);
    return { metric, most: order.slice(0, size).map(pick), least: least.slice(0, size).map(pick) };
  });
  return { label, map, reference, referenceCount, candidates: members.length, perMetric };
}

/** One pool input in a gallery: its pool index, its score under the metric, its pixels, and the model's prediction. */
export interface GalleryPick {
  readonly index: number;
  readonly score: number;
  readonly image: Float32Array;
  readonly predicted: number;
}

interface MetricGallery {
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

export interface Galleries {
  readonly inputShape: InputShape;
  readonly classNames: readonly string[];
  readonly labels: readonly LabelGalleries[];
}

/** The galleries of these labels for a model and its data: ranked pool inputs with their pictures and the model's predictions. */
export async function poolGalleries(model: Model, data: RunData, labels: readonly number[], map: MapName): Promise<Galleries> {
  const { pool, validation, dataset } = data;
  const predictions = argmaxRows(await model.predict(validation.x, validation.count), model.numClasses);
  const size = pool.inputShape[0] * pool.inputShape[1] * pool.inputShape[2];
  const out: LabelGalleries[] = [];
  for (const label of labels) {
    const ranked = rankSimilarInputs(pool, validation, predictions, label, map);
    const shown = [...new Set(ranked.perMetric.flatMap((m) => [...m.most, ...m.least].map((p) => p.index)))].sort((a, b) => a - b);
    const predicted = new Map<number, number>();
    if (shown.length > 0) {
      const rows = subsetUnchecked(pool, shown);
      const p = argmaxRows(await model.predict(rows.x, rows.count), model.numClasses);
      shown.forEach((index, k) => predicted.set(index, p[k]!));
    }
    const picks = (list: readonly { index: number; score: number }[]): GalleryPick[] =>
      list.map((p) => ({ ...p, image: pool.x.slice(p.index * size, (p.index + 1) * size), predicted: predicted.get(p.index)! }));
    out.push({
      label,
      map,
      reference: ranked.reference,
      referenceCount: ranked.referenceCount,
      candidates: ranked.candidates,
      perMetric: ranked.perMetric.map((m) => ({ metric: m.metric, most: picks(m.most), least: picks(m.least) })),
    });
  }
  return { inputShape: pool.inputShape, classNames: dataset.classNames, labels: out };
}
