/**
 * Heat maps and differential heat maps (docs/method.md section 5), the state differential analysis.
 *
 * At a probe with head weights W (features x classes) and features phi(x):
 *   H(S, l) = mean over x in S of phi(x) * W[:, l]   (each neuron's contribution to l's logit)
 * For label l: HC over {y = l, yhat = l}, HM over {y = l, yhat != l} (missed), HW over
 * {y != l, yhat = l} (wrongly claimed); yhat is the model's own prediction.
 * Differential maps: DHC = HC_l - HC_c (c the label l is most often mistaken for), DHM = HC - HM,
 * DHW = HW - HC.
 */
import { oneOf } from '../core/errors.js';

export const HEATMAP_VARIANTS = ['importance', 'weights', 'activation', 'input-mean'] as const;
export type HeatmapVariant = (typeof HEATMAP_VARIANTS)[number];
export const parseHeatmapVariant = (name: string): HeatmapVariant => oneOf('heat map variant', name, HEATMAP_VARIANTS);

export const MAP_NAMES = ['hc', 'hm', 'hw', 'dhc', 'dhm', 'dhw'] as const;
export type MapName = (typeof MAP_NAMES)[number];

export interface LabelMaps {
  readonly label: number;
  readonly variant: HeatmapVariant;
  /** Shape of one map: the probe's output shape, or the input's for input-mean. */
  readonly shape: readonly number[];
  readonly maps: Readonly<Record<MapName, Float32Array>>;
  /** Inputs behind HC, HM, HW. */
  readonly counts: { readonly correct: number; readonly missed: number; readonly wronglyClaimed: number };
  /** The label that inputs of `label` are most often predicted as (DHC compares against it). */
  readonly confusedWith: number;
}

/** What heat maps are computed from: features of a set at one probe and the model's predictions. */
export interface MapInputs {
  /** count x size features (the raw inputs for input-mean). */
  readonly features: Float32Array;
  readonly size: number;
  readonly shape: readonly number[];
  readonly labels: Int32Array;
  readonly predictions: Int32Array;
  readonly numClasses: number;
  /** The probe's head weights, size x numClasses (unused by activation and input-mean). */
  readonly headWeights: Float32Array;
}

/** Mean of feature rows over a subset, each multiplied by a weight column when given. */
function meanMap(inputs: MapInputs, member: (i: number) => boolean, weightColumn: number | null): { map: Float32Array; count: number } {
  const { features, size } = inputs;
  const sum = new Float64Array(size);
  let count = 0;
  for (let i = 0; i < inputs.labels.length; i++) {
    if (!member(i)) continue;
    count++;
    const row = i * size;
    for (let j = 0; j < size; j++) sum[j]! += features[row + j]!;
  }
  const map = new Float32Array(size);
  if (count === 0) return { map, count };
  for (let j = 0; j < size; j++) {
    const mean = sum[j]! / count;
    map[j] = weightColumn === null ? mean : mean * inputs.headWeights[j * inputs.numClasses + weightColumn]!;
  }
  return { map, count };
}

function weightMap(inputs: MapInputs, label: number): Float32Array {
  const map = new Float32Array(inputs.size);
  for (let j = 0; j < inputs.size; j++) map[j] = inputs.headWeights[j * inputs.numClasses + label]!;
  return map;
}

/** H(S, l) for one variant. */
function heatmap(
  variant: HeatmapVariant,
  inputs: MapInputs,
  member: (i: number) => boolean,
  label: number,
): { map: Float32Array; count: number } {
  switch (variant) {
    case 'importance':
      return meanMap(inputs, member, label);
    case 'activation':
    case 'input-mean':
      return meanMap(inputs, member, null);
    case 'weights':
      return { map: weightMap(inputs, label), count: meanMap(inputs, member, null).count };
  }
}

const subtract = (a: Float32Array, b: Float32Array): Float32Array => a.map((v, i) => v - b[i]!);

/** The label most often predicted for inputs of `label` (other than itself); ties to the lower label. */
export function mostConfusedWith(label: number, labels: Int32Array, predictions: Int32Array, numClasses: number): number {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) if (labels[i] === label && predictions[i] !== label) counts[predictions[i]!]! += 1;
  let best = label === 0 ? 1 : 0;
  for (let c = 0; c < numClasses; c++) if (c !== label && counts[c]! > counts[best]!) best = c;
  return best;
}

export function labelMaps(variant: HeatmapVariant, inputs: MapInputs, label: number): LabelMaps {
  const { labels: y, predictions: p } = inputs;
  const c = mostConfusedWith(label, y, p, inputs.numClasses);
  const hc = heatmap(variant, inputs, (i) => y[i] === label && p[i] === label, label);
  const hm = heatmap(variant, inputs, (i) => y[i] === label && p[i] !== label, label);
  const hw = heatmap(variant, inputs, (i) => y[i] !== label && p[i] === label, label);
  const hcOther = heatmap(variant, inputs, (i) => y[i] === c && p[i] === c, c);
  return {
    label,
    variant,
    shape: inputs.shape,
    maps: {
      hc: hc.map,
      hm: hm.map,
      hw: hw.map,
      dhc: subtract(hc.map, hcOther.map),
      dhm: subtract(hc.map, hm.map),
      dhw: subtract(hw.map, hc.map),
    },
    counts: { correct: hc.count, missed: hm.count, wronglyClaimed: hw.count },
    confusedWith: c,
  };
}
