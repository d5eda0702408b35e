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

/** The sets heat maps average over: HC, HM and HW of the label, and HC of the label it is most confused with. */
const SUBSETS = ['hc', 'hm', 'hw', 'hcOther'] as const;
type Subset = (typeof SUBSETS)[number];

const subtract = (a: Float32Array, b: Float32Array): Float32Array => a.map((v, i) => v - b[i]!);

/** The label most often predicted for inputs of `label` (other than itself); ties to the lower label. */
export function mostConfusedWith(label: number, labels: Int32Array, predictions: Int32Array, numClasses: number): number {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) if (labels[i] === label && predictions[i] !== label) counts[predictions[i]!]! += 1;
  let best = label === 0 ? 1 : 0;
  for (let c = 0; c < numClasses; c++) if (c !== label && counts[c]! > counts[best]!) best = c;
  return best;
}

/**
 * A label's maps from features that arrive a chunk of rows at a time, in row order, so a wide probe's
 * features over a whole set never sit in memory at once. Each row belongs to at most one of the sets;
 * their sums run in row order, so the maps are the same as from all rows at once.
 */
export class LabelMapsBuilder {
  private readonly sums: Record<Subset, Float64Array>;
  private readonly counts: Record<Subset, number> = { hc: 0, hm: 0, hw: 0, hcOther: 0 };
  /** The label that inputs of `label` are most often predicted as. */
  readonly confusedWith: number;

  constructor(
    private readonly variant: HeatmapVariant,
    private readonly label: number,
    private readonly inputs: Omit<MapInputs, 'features'>,
  ) {
    this.confusedWith = mostConfusedWith(label, inputs.labels, inputs.predictions, inputs.numClasses);
    this.sums = {
      hc: new Float64Array(inputs.size),
      hm: new Float64Array(inputs.size),
      hw: new Float64Array(inputs.size),
      hcOther: new Float64Array(inputs.size),
    };
  }

  private subsetOf(i: number): Subset | null {
    const y = this.inputs.labels[i];
    const p = this.inputs.predictions[i];
    if (y === this.label) return p === this.label ? 'hc' : 'hm';
    if (p === this.label) return 'hw';
    return y === this.confusedWith && p === this.confusedWith ? 'hcOther' : null;
  }

  /** Adds rows [start, start + count) with their features (count x size). */
  add(features: Float32Array, start: number, count: number): void {
    const size = this.inputs.size;
    for (let r = 0; r < count; r++) {
      const subset = this.subsetOf(start + r);
      if (subset === null) continue;
      this.counts[subset] += 1;
      if (this.variant === 'weights') continue; // the weights map needs the counts only
      const sum = this.sums[subset];
      const row = r * size;
      for (let j = 0; j < size; j++) sum[j]! += features[row + j]!;
    }
  }

  /** H(S, l) of one set: the mean of its features, times the head's weight column for importance; the column itself for weights. */
  private map(subset: Subset): Float32Array {
    const { size, numClasses, headWeights } = this.inputs;
    const column = subset === 'hcOther' ? this.confusedWith : this.label;
    const map = new Float32Array(size);
    if (this.variant === 'weights') {
      for (let j = 0; j < size; j++) map[j] = headWeights[j * numClasses + column]!;
      return map;
    }
    const count = this.counts[subset];
    if (count === 0) return map;
    const sum = this.sums[subset];
    for (let j = 0; j < size; j++) {
      const mean = sum[j]! / count;
      map[j] = this.variant === 'importance' ? mean * headWeights[j * numClasses + column]! : mean;
    }
    return map;
  }

  build(): LabelMaps {
    const [hc, hm, hw, hcOther] = SUBSETS.map((s) => this.map(s)) as [Float32Array, Float32Array, Float32Array, Float32Array];
    return {
      label: this.label,
      variant: this.variant,
      shape: this.inputs.shape,
      maps: { hc, hm, hw, dhc: subtract(hc, hcOther), dhm: subtract(hc, hm), dhw: subtract(hw, hc) },
      counts: { correct: this.counts.hc, missed: this.counts.hm, wronglyClaimed: this.counts.hw },
      confusedWith: this.confusedWith,
    };
  }
}

export function labelMaps(variant: HeatmapVariant, inputs: MapInputs, label: number): LabelMaps {
  const builder = new LabelMapsBuilder(variant, label, inputs);
  builder.add(inputs.features, 0, inputs.labels.length);
  return builder.build();
}
