/**
 * Target layer selection (docs/method.md section 4): where the bug of a label starts.
 * - saturation (default): underfitting l -> the first probe whose validation accuracy on l is within
 *   epsilon of the best on l over all later probes (later layers add nothing for l);
 * - bhattacharyya (the replication's rule): the first probe whose mean prediction for inputs of l is
 *   within a Bhattacharyya distance threshold of the next probe's;
 * - none (ablation): the last hidden probe.
 * Overfitting l, under saturation and bhattacharyya: the first probe where train - validation
 * accuracy on l exceeds gamma (the last probe when none does).
 */
import { oneOf } from '../core/errors.js';
import type { BugKind } from './bug-detection.js';
import { DEFAULT_BHATTACHARYYA_THRESHOLD, DEFAULT_EPSILON, DEFAULT_GAMMA } from './constants.js';

export const LAYER_SELECTION_RULES = ['saturation', 'bhattacharyya', 'none'] as const;
export type LayerSelectionRule = (typeof LAYER_SELECTION_RULES)[number];

export const parseLayerSelection = (name: string): LayerSelectionRule => oneOf('layer selection', name, LAYER_SELECTION_RULES);

/** What layer selection needs of each probe's feature model, in probe order. */
export interface ProbeAccuracy {
  readonly trainPerLabel: readonly number[];
  readonly validationPerLabel: readonly number[];
  /** Mean predicted class distribution of validation inputs per true label: [label][class]. */
  readonly meanPrediction: readonly (readonly number[])[];
}

export interface LayerSelectionOptions {
  readonly epsilon?: number;
  readonly gamma?: number;
  readonly bhattacharyyaThreshold?: number;
}

export interface TargetChoice {
  /** Position in the probe list. */
  readonly probe: number;
  readonly reason: string;
}

export function selectTargetLayer(
  rule: LayerSelectionRule,
  label: number,
  kind: BugKind,
  probes: readonly ProbeAccuracy[],
  options: LayerSelectionOptions = {},
): TargetChoice {
  const last = probes.length - 1;
  if (rule === 'none') return { probe: last, reason: 'no layer selection: the last hidden probe' };
  if (kind === 'overfitting') {
    const gamma = options.gamma ?? DEFAULT_GAMMA;
    const k = probes.findIndex((p) => p.trainPerLabel[label]! - p.validationPerLabel[label]! > gamma);
    return k >= 0
      ? { probe: k, reason: `first probe where train - validation accuracy exceeds gamma ${gamma}` }
      : { probe: last, reason: `no probe's train - validation gap exceeds gamma ${gamma}: the last probe` };
  }
  if (rule === 'saturation') {
    const epsilon = options.epsilon ?? DEFAULT_EPSILON;
    for (let k = 0; k < probes.length; k++) {
      const here = probes[k]!.validationPerLabel[label]!;
      const laterBest = Math.max(...probes.slice(k + 1).map((p) => p.validationPerLabel[label]!));
      if (here >= laterBest - epsilon)
        return { probe: k, reason: `validation accuracy saturates: later probes add at most epsilon ${epsilon}` };
    }
    return { probe: last, reason: 'the last probe' };
  }
  const threshold = options.bhattacharyyaThreshold ?? DEFAULT_BHATTACHARYYA_THRESHOLD;
  for (let k = 0; k < last; k++) {
    const d = bhattacharyyaDistance(probes[k]!.meanPrediction[label]!, probes[k + 1]!.meanPrediction[label]!);
    if (d <= threshold)
      return { probe: k, reason: `Bhattacharyya distance to the next probe's predictions ${d.toFixed(4)} <= ${threshold}` };
  }
  return { probe: last, reason: `no successive probes within Bhattacharyya distance ${threshold}: the last probe` };
}

/** Bhattacharyya distance between two discrete distributions (normalised here). */
export function bhattacharyyaDistance(p: readonly number[], q: readonly number[]): number {
  const sp = p.reduce((a, b) => a + b, 0);
  const sq = q.reduce((a, b) => a + b, 0);
  if (sp <= 0 || sq <= 0) return Infinity;
  let bc = 0;
  for (let i = 0; i < p.length; i++) bc += Math.sqrt((p[i]! / sp) * (q[i]! / sq));
  return Math.max(0, -Math.log(Math.min(1, Math.max(bc, 1e-12))));
}

/** Mean predicted distribution per true label from probabilities (count x numClasses). */
export function meanPredictionPerLabel(probabilities: Float32Array, labels: Int32Array, numClasses: number): number[][] {
  const sums = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    counts[y]! += 1;
    for (let c = 0; c < numClasses; c++) sums[y]![c]! += probabilities[i * numClasses + c]!;
  }
  return sums.map((row, l) => row.map((v) => (counts[l]! > 0 ? v / counts[l]! : 0)));
}
