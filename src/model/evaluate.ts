/** Runs a model over a labelled set and scores it. */
import type { LabeledSet } from '../core/data-types.js';
import type { Model } from '../engine/index.js';
import { argmaxRows, classificationMetrics, type ClassificationMetrics } from './metrics.js';

export interface Evaluation extends ClassificationMetrics {
  readonly predictions: Int32Array;
  readonly probabilities: Float32Array;
}

export async function evaluate(model: Model, set: LabeledSet): Promise<Evaluation> {
  const probabilities = await model.predict(set.x, set.count);
  const predictions = argmaxRows(probabilities, model.numClasses);
  return { ...classificationMetrics(set.y, predictions, model.numClasses), predictions, probabilities };
}

/** `evaluate` over several sets taken one after another, without copying their inputs into one set. */
export async function evaluateSets(model: Model, sets: readonly LabeledSet[]): Promise<Evaluation> {
  if (sets.length === 1) return evaluate(model, sets[0]!);
  const count = sets.reduce((n, s) => n + s.count, 0);
  const probabilities = new Float32Array(count * model.numClasses);
  const labels = new Int32Array(count);
  let at = 0;
  for (const set of sets) {
    if (set.count > 0) probabilities.set(await model.predict(set.x, set.count), at * model.numClasses);
    labels.set(set.y, at);
    at += set.count;
  }
  const predictions = argmaxRows(probabilities, model.numClasses);
  return { ...classificationMetrics(labels, predictions, model.numClasses), predictions, probabilities };
}

/** The part of an evaluation that goes into metrics.json (no per-input arrays). */
export function summarize(e: ClassificationMetrics): ClassificationMetrics {
  return { count: e.count, accuracy: e.accuracy, perLabel: e.perLabel, support: e.support, confusion: e.confusion };
}
