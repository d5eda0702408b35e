/**
 * The slides' "most similar per metric" and "least similar per metric" pages: the pool inputs of a
 * buggy label ranked by their similarity to one of the label's heat maps in input space (the mean of
 * the validation inputs behind it, as the replication drew its maps), under every metric. Pure:
 * arrays in, ranked pool indices out.
 */
import type { LabeledSet } from '../core/data-types.js';
import { usageError } from '../core/errors.js';
import { labelMaps, type MapName } from '../analysis/index.js';
import { METRIC_NAMES, scoreCandidates, type MetricName } from '../select/metrics.js';

/** Inputs shown per gallery: one row of six fits a laptop screen at 3x MNIST size. */
export const DEFAULT_GALLERY_SIZE = 6;

export interface RankedGallery {
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
export function rankSimilarInputs(pool: LabeledSet, validation: LabeledSet, validationPredictions: Int32Array, label: number, map: MapName, options: GalleryOptions = {}): RankedGalleries {
  const size = options.size ?? DEFAULT_GALLERY_SIZE;
  if (!(Number.isInteger(size) && size >= 1)) throw usageError(`gallery size ${size} is not a whole number >= 1`);
  if (validationPredictions.length !== validation.count) throw usageError(`${validationPredictions.length} predictions for ${validation.count} validation inputs`);
  const inputSize = pool.inputShape[0] * pool.inputShape[1] * pool.inputShape[2];
  const maps = labelMaps('input-mean', {
    features: validation.x, size: inputSize, shape: [...pool.inputShape], labels: validation.y, predictions: validationPredictions,
    numClasses: validation.numClasses, headWeights: new Float32Array(0),
  }, label);
  const referenceCount = map === 'hc' || map === 'dhc' || map === 'dhm' ? maps.counts.correct : map === 'hm' ? maps.counts.missed : maps.counts.wronglyClaimed;
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
