/**
 * Similarity metrics for input selection (docs/method.md section 6). Each metric compares a candidate's
 * vector (its features at the target probe, or its raw input) with a reference vector and becomes a
 * SCORE where higher = more similar: the similarity itself for dot and cosine, minus the distance for
 * every other metric. Selectors only ever sort scores in descending order, so the replication's two
 * bugs cannot come back here: its earth mover sorted distances as if they were similarities (picking
 * the least similar inputs) and its canberra ran chebyshev.
 *
 * The metrics are one `as const` table. Each entry's `prepare` precomputes what depends on the
 * reference alone (norms, normalised masses, cumulative distributions, histograms) once per call, and
 * returns a per-row measure that loops over one row of the row-major candidate matrix without
 * allocating, so a 25000 x 784 pool scores in tens of milliseconds.
 *
 * Public functions validate their input once; `prepare` and the row measures trust it.
 */
import { oneOf, shapeError, usageError } from '../core/errors.js';

export const METRIC_NAMES = [
  'dot',
  'cosine',
  'manhattan',
  'euclidean',
  'minkowski',
  'chebyshev',
  'earth-mover',
  'earth-mover-histogram',
  'canberra',
  'bray-curtis',
  'bhattacharyya',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export interface MetricOptions {
  /** Minkowski exponent, a finite number >= 1 (default DEFAULT_MINKOWSKI_P). */
  p?: number;
  /** Bins for earth-mover-histogram, an integer >= 1 (default DEFAULT_HISTOGRAM_BINS). */
  bins?: number;
}

/** Options with every default filled in and checked. */
export interface ResolvedMetricOptions {
  readonly p: number;
  readonly bins: number;
}

/** Minkowski exponent when none is given: docs/method.md section 6, "minkowski (p, default 3)". */
export const DEFAULT_MINKOWSKI_P = 3;
/** Value bins for the histogram earth mover when none is given: a project default (the replication's count is not recorded). */
const DEFAULT_HISTOGRAM_BINS = 32;
/** Floor on the Bhattacharyya coefficient, so disjoint distributions get distance -ln(1e-12) ~ 27.6 instead of Infinity. */
export const BHATTACHARYYA_MIN_COEFFICIENT = 1e-12;
/** Largest integer Minkowski exponent computed by repeated multiplication (a speed threshold, not a limit). */
const MINKOWSKI_MULTIPLY_MAX_P = 16;
/** meanPairwiseSimilarity uses the first this-many rows only, bounding it at O(200^2 * size). */
const MEAN_PAIRWISE_MAX_ROWS = 200;

/**
 * Measures one row of `rows` (starting at `offset`, as long as the prepared reference) against the
 * prepared reference: the metric's raw value, a similarity or a distance according to the table's `kind`.
 */
export type RowMeasure = (rows: Float32Array, offset: number) => number;

export interface MetricSpec {
  /** 'similarity': the value is the score. 'distance': the value is >= 0 and the score is minus it. */
  readonly kind: 'similarity' | 'distance';
  /** metricValue(a, b) === metricValue(b, a). */
  readonly symmetric: boolean;
  /** Whether a candidate equal to the reference always gets the highest score (not for dot: 2 x ref beats ref). */
  readonly identityRanksFirst: boolean;
  /** Whether a row's score depends on that row and the reference alone (not for the histogram: its bin range spans all candidates). */
  readonly rowIndependent: boolean;
  readonly description: string;
  /** Precomputes what depends on the reference (and, for the histogram range, the candidates) once. Trusts its input. */
  readonly prepare: (reference: Float32Array, candidates: Float32Array, options: ResolvedMetricOptions) => RowMeasure;
}

// ---------------------------------------------------------------------------------------------------
// Shared helpers (trusting their input).

/**
 * How to turn a row into a distribution over positions: mass_i = (v_i - shift) * scale + uniform,
 * where shift is the row's minimum if negative (else 0), scale = 1 / total shifted mass, and a row
 * with no mass after shifting (all zero, or constant when negative) becomes uniform. Written into
 * `out` as [shift, scale, uniform]. Reference and candidates go through this same arithmetic, so a
 * candidate equal to the reference gets bit-identical masses.
 */
function massTransform(row: Float32Array, offset: number, size: number, out: Float64Array): void {
  let min = Infinity;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const v = row[offset + i]!;
    if (v < min) min = v;
    sum += v;
  }
  let shift = 0;
  if (min < 0) {
    // Summing the shifted values, each >= 0, so the total is 0 only when every shifted value is 0.
    shift = min;
    sum = 0;
    for (let i = 0; i < size; i++) sum += row[offset + i]! - shift;
  }
  out[0] = shift;
  out[1] = sum > 0 ? 1 / sum : 0;
  out[2] = sum > 0 ? 0 : 1 / size;
}

/** The reference as normalised masses (see massTransform). */
function referenceMasses(reference: Float32Array, transform: Float64Array): Float64Array {
  const size = reference.length;
  massTransform(reference, 0, size, transform);
  const shift = transform[0]!;
  const scale = transform[1]!;
  const uniform = transform[2]!;
  const masses = new Float64Array(size);
  for (let i = 0; i < size; i++) masses[i] = (reference[i]! - shift) * scale + uniform;
  return masses;
}

/** Smallest and largest value over both arrays. */
function valueRange(a: Float32Array, b: Float32Array): { low: number; high: number } {
  let low = Infinity;
  let high = -Infinity;
  for (const array of [a, b]) {
    for (let i = 0; i < array.length; i++) {
      const v = array[i]!;
      if (v < low) low = v;
      if (v > high) high = v;
    }
  }
  return { low, high };
}

// ---------------------------------------------------------------------------------------------------
// The metrics.

function prepareDot(reference: Float32Array): RowMeasure {
  const size = reference.length;
  const ref = Float64Array.from(reference);
  return (rows, offset) => {
    let dot = 0;
    for (let i = 0; i < size; i++) dot += ref[i]! * rows[offset + i]!;
    return dot;
  };
}

function prepareCosine(reference: Float32Array): RowMeasure {
  const size = reference.length;
  const ref = Float64Array.from(reference);
  let refNorm2 = 0;
  for (let i = 0; i < size; i++) refNorm2 += ref[i]! * ref[i]!;
  return (rows, offset) => {
    let dot = 0;
    let norm2 = 0;
    for (let i = 0; i < size; i++) {
      const v = rows[offset + i]!;
      dot += ref[i]! * v;
      norm2 += v * v;
    }
    if (refNorm2 === 0 || norm2 === 0) return 0;
    // dot / sqrt(|a|^2 |b|^2) rather than dot / (|a| |b|): for b = a it is s / sqrt(s * s) = 1 exactly.
    const cosine = dot / Math.sqrt(refNorm2 * norm2);
    return cosine > 1 ? 1 : cosine < -1 ? -1 : cosine;
  };
}

function prepareManhattan(reference: Float32Array): RowMeasure {
  const size = reference.length;
  const ref = Float64Array.from(reference);
  return (rows, offset) => {
    let sum = 0;
    for (let i = 0; i < size; i++) sum += Math.abs(ref[i]! - rows[offset + i]!);
    return sum;
  };
}

function prepareEuclidean(reference: Float32Array): RowMeasure {
  const size = reference.length;
  const ref = Float64Array.from(reference);
  return (rows, offset) => {
    let sum = 0;
    for (let i = 0; i < size; i++) {
      const d = ref[i]! - rows[offset + i]!;
      sum += d * d;
    }
    return Math.sqrt(sum);
  };
}

function prepareMinkowski(reference: Float32Array, _candidates: Float32Array, options: ResolvedMetricOptions): RowMeasure {
  const size = reference.length;
  const ref = Float64Array.from(reference);
  const p = options.p;
  const root = 1 / p;
  if (Number.isInteger(p) && p <= MINKOWSKI_MULTIPLY_MAX_P) {
    // Integer exponents (the default 3 among them) multiplied out: Math.pow per element is ~20x slower.
    return (rows, offset) => {
      let sum = 0;
      for (let i = 0; i < size; i++) {
        const d = Math.abs(ref[i]! - rows[offset + i]!);
        let power = d;
        for (let k = 1; k < p; k++) power *= d;
        sum += power;
      }
      return Math.pow(sum, root);
    };
  }
  // Other exponents through exp(p ln d), about twice as fast as Math.pow, skipping the d = 0 terms.
  return (rows, offset) => {
    let sum = 0;
    for (let i = 0; i < size; i++) {
      const d = Math.abs(ref[i]! - rows[offset + i]!);
      if (d > 0) sum += Math.exp(p * Math.log(d));
    }
    return Math.pow(sum, root);
  };
}

function prepareChebyshev(reference: Float32Array): RowMeasure {
  const size = reference.length;
  const ref = Float64Array.from(reference);
  return (rows, offset) => {
    let max = 0;
    for (let i = 0; i < size; i++) {
      const d = Math.abs(ref[i]! - rows[offset + i]!);
      if (d > max) max = d;
    }
    return max;
  };
}

/**
 * 1-D Wasserstein-1 between the two vectors as distributions over neuron positions 0..size-1 (see
 * massTransform), with unit spacing and NOT divided by size: moving all mass k positions costs k.
 * W1 = sum over positions of |CDF_a - CDF_b|.
 */
function prepareEarthMover(reference: Float32Array): RowMeasure {
  const size = reference.length;
  const transform = new Float64Array(3);
  const masses = referenceMasses(reference, transform);
  const referenceCdf = new Float64Array(size);
  let cumulative = 0;
  for (let i = 0; i < size; i++) {
    cumulative += masses[i]!;
    referenceCdf[i] = cumulative;
  }
  return (rows, offset) => {
    massTransform(rows, offset, size, transform);
    const shift = transform[0]!;
    const scale = transform[1]!;
    const uniform = transform[2]!;
    let cdf = 0;
    let distance = 0;
    // Both CDFs end at 1 (up to rounding), so the last position adds nothing and is skipped.
    for (let i = 0; i < size - 1; i++) {
      cdf += (rows[offset + i]! - shift) * scale + uniform;
      distance += Math.abs(cdf - referenceCdf[i]!);
    }
    return distance;
  };
}

/**
 * The replication's variant: Wasserstein-1 between the histograms of the two vectors' VALUES,
 * ignoring positions. `bins` equal-width bins span the smallest to the largest value over the
 * reference and ALL candidates (one range per call, so every row is binned the same way; hence a
 * row's score depends on the other candidates through the range). Measured in value units: bin
 * width x sum over bins of |CDF_a - CDF_b|. All values equal: every value in bin 0, distance 0.
 */
function prepareEarthMoverHistogram(reference: Float32Array, candidates: Float32Array, options: ResolvedMetricOptions): RowMeasure {
  const size = reference.length;
  const bins = options.bins;
  const { low, high } = valueRange(reference, candidates);
  const binScale = high > low ? bins / (high - low) : 0;
  const unit = (high > low ? (high - low) / bins : 0) / size;
  const counts = new Int32Array(bins);
  const tally = (rows: Float32Array, offset: number): void => {
    counts.fill(0);
    for (let i = 0; i < size; i++) {
      const bin = Math.floor((rows[offset + i]! - low) * binScale);
      counts[bin < bins ? bin : bins - 1]! += 1; // the largest value lands on the upper edge, bin `bins`
    }
  };
  tally(reference, 0);
  const referenceCumulative = new Int32Array(bins);
  let cumulative = 0;
  for (let k = 0; k < bins; k++) {
    cumulative += counts[k]!;
    referenceCumulative[k] = cumulative;
  }
  return (rows, offset) => {
    tally(rows, offset);
    // Integer cumulative counts: a row with the reference's histogram gets exactly 0.
    let cumulativeCount = 0;
    let total = 0;
    for (let k = 0; k < bins - 1; k++) {
      cumulativeCount += counts[k]!;
      total += Math.abs(cumulativeCount - referenceCumulative[k]!);
    }
    return total * unit;
  };
}

/** sum |a_i - b_i| / (|a_i| + |b_i|), a 0/0 term counting 0. */
function prepareCanberra(reference: Float32Array): RowMeasure {
  const size = reference.length;
  const ref = Float64Array.from(reference);
  const refAbs = ref.map(Math.abs);
  return (rows, offset) => {
    let sum = 0;
    for (let i = 0; i < size; i++) {
      const v = rows[offset + i]!;
      const denominator = refAbs[i]! + Math.abs(v);
      if (denominator > 0) sum += Math.abs(ref[i]! - v) / denominator;
    }
    return sum;
  };
}

/**
 * sum |a_i - b_i| / sum (|a_i| + |b_i|): the classic sum |a - b| / sum (a + b) for non-negative
 * vectors, and still in [0, 1] for signed ones. 0 when both vectors are all zero.
 */
function prepareBrayCurtis(reference: Float32Array): RowMeasure {
  const size = reference.length;
  const ref = Float64Array.from(reference);
  let refAbsSum = 0;
  for (let i = 0; i < size; i++) refAbsSum += Math.abs(ref[i]!);
  return (rows, offset) => {
    let difference = 0;
    let absSum = 0;
    for (let i = 0; i < size; i++) {
      const v = rows[offset + i]!;
      difference += Math.abs(ref[i]! - v);
      absSum += Math.abs(v);
    }
    const denominator = refAbsSum + absSum;
    return denominator > 0 ? difference / denominator : 0;
  };
}

/**
 * -ln(BC), BC = sum sqrt(p_i q_i) over the vectors as distributions over positions (see
 * massTransform), BC clamped to [BHATTACHARYYA_MIN_COEFFICIENT, 1].
 */
function prepareBhattacharyya(reference: Float32Array): RowMeasure {
  const size = reference.length;
  const transform = new Float64Array(3);
  const masses = referenceMasses(reference, transform);
  let referenceTotal = 0;
  for (let i = 0; i < size; i++) referenceTotal += masses[i]!;
  return (rows, offset) => {
    massTransform(rows, offset, size, transform);
    const shift = transform[0]!;
    const scale = transform[1]!;
    const uniform = transform[2]!;
    let overlap = 0;
    let total = 0;
    for (let i = 0; i < size; i++) {
      const q = (rows[offset + i]! - shift) * scale + uniform;
      overlap += Math.sqrt(masses[i]! * q);
      total += q;
    }
    // Dividing by sqrt(sum p * sum q) cancels rounding in the normalisation: for q = p it is exactly 1.
    const coefficient = overlap / Math.sqrt(referenceTotal * total);
    if (coefficient >= 1) return 0;
    return -Math.log(coefficient > BHATTACHARYYA_MIN_COEFFICIENT ? coefficient : BHATTACHARYYA_MIN_COEFFICIENT);
  };
}

export const METRICS = {
  dot: {
    kind: 'similarity',
    symmetric: true,
    identityRanksFirst: false,
    rowIndependent: true,
    description: "dot product a.b (grows with the candidate's length, so the reference itself need not rank first)",
    prepare: prepareDot,
  },
  cosine: {
    kind: 'similarity',
    symmetric: true,
    identityRanksFirst: true,
    rowIndependent: true,
    description: 'cosine of the angle, a.b / (|a| |b|); 0 when either vector is zero',
    prepare: prepareCosine,
  },
  manhattan: {
    kind: 'distance',
    symmetric: true,
    identityRanksFirst: true,
    rowIndependent: true,
    description: 'L1 distance, sum |a_i - b_i|',
    prepare: prepareManhattan,
  },
  euclidean: {
    kind: 'distance',
    symmetric: true,
    identityRanksFirst: true,
    rowIndependent: true,
    description: 'L2 distance, sqrt(sum (a_i - b_i)^2)',
    prepare: prepareEuclidean,
  },
  minkowski: {
    kind: 'distance',
    symmetric: true,
    identityRanksFirst: true,
    rowIndependent: true,
    description: 'Lp distance, (sum |a_i - b_i|^p)^(1/p), p from the options (default 3)',
    prepare: prepareMinkowski,
  },
  chebyshev: {
    kind: 'distance',
    symmetric: true,
    identityRanksFirst: true,
    rowIndependent: true,
    description: 'L-infinity distance, max |a_i - b_i|',
    prepare: prepareChebyshev,
  },
  'earth-mover': {
    kind: 'distance',
    symmetric: true,
    identityRanksFirst: true,
    rowIndependent: true,
    description: '1-D Wasserstein-1 over neuron positions (each vector shifted to >= 0 by its minimum, normalised to sum 1; unit spacing)',
    prepare: prepareEarthMover,
  },
  'earth-mover-histogram': {
    kind: 'distance',
    symmetric: true,
    identityRanksFirst: true,
    rowIndependent: false,
    description:
      "Wasserstein-1 between histograms of the values, ignoring positions (the replication's variant; bins from the options, default 32, " +
      'over the joint value range)',
    prepare: prepareEarthMoverHistogram,
  },
  canberra: {
    kind: 'distance',
    symmetric: true,
    identityRanksFirst: true,
    rowIndependent: true,
    description: 'Canberra distance, sum |a_i - b_i| / (|a_i| + |b_i|), 0/0 terms counting 0',
    prepare: prepareCanberra,
  },
  'bray-curtis': {
    kind: 'distance',
    symmetric: true,
    identityRanksFirst: true,
    rowIndependent: true,
    description: 'Bray-Curtis dissimilarity, sum |a_i - b_i| / sum (|a_i| + |b_i|), in [0, 1] also for signed vectors',
    prepare: prepareBrayCurtis,
  },
  bhattacharyya: {
    kind: 'distance',
    symmetric: true,
    identityRanksFirst: true,
    rowIndependent: true,
    description: 'Bhattacharyya distance -ln(sum sqrt(p_i q_i)) over the vectors shifted to >= 0 and normalised to sum 1',
    prepare: prepareBhattacharyya,
  },
} as const satisfies { readonly [K in MetricName]: MetricSpec };

// ---------------------------------------------------------------------------------------------------
// Public API: validate once, then trust.

/** The metric named `name`, or a usage error listing the valid names. */
export function parseMetric(name: string): MetricName {
  return oneOf('metric', name, METRIC_NAMES);
}

/**
 * Scores every row of `candidates` (count x size, row-major) against `reference` (size). Higher =
 * more similar: the similarity for dot and cosine, minus the distance for the others.
 */
export function scoreCandidates(
  metric: MetricName,
  candidates: Float32Array,
  count: number,
  reference: Float32Array,
  options: MetricOptions = {},
): Float64Array {
  const spec = METRICS[parseMetric(metric)];
  const resolved = resolveOptions(options);
  checkReference('reference', reference);
  checkMatrix('candidates', candidates, count, reference.length);
  checkFinite('candidates', candidates, reference.length);
  return scoreRows(spec, candidates, count, reference, resolved);
}

/** The metric's raw value between two vectors (a similarity for dot and cosine, else a distance >= 0). */
export function metricValue(metric: MetricName, a: Float32Array, b: Float32Array, options: MetricOptions = {}): number {
  const spec = METRICS[parseMetric(metric)];
  const resolved = resolveOptions(options);
  checkReference('first vector', a);
  checkReference('second vector', b);
  if (b.length !== a.length) {
    throw shapeError(`cannot compare vectors of different lengths: ${a.length} and ${b.length}; pass two vectors of the same size`);
  }
  return spec.prepare(a, b, resolved)(b, 0);
}

/**
 * Mean score over all ordered pairs of distinct rows (a diagnostic: how alike the selected inputs
 * are). Uses the first MEAN_PAIRWISE_MAX_ROWS rows when there are more; NaN for fewer than two rows.
 */
export function meanPairwiseSimilarity(
  metric: MetricName,
  rows: Float32Array,
  count: number,
  size: number,
  options: MetricOptions = {},
): number {
  const spec = METRICS[parseMetric(metric)];
  const resolved = resolveOptions(options);
  if (!Number.isInteger(size) || size <= 0) {
    throw shapeError(`row size must be a positive integer, got ${size}`);
  }
  checkMatrix('rows', rows, count, size);
  const used = Math.min(count, MEAN_PAIRWISE_MAX_ROWS);
  if (used < 2) return NaN;
  const sample = rows.subarray(0, used * size);
  checkFinite('rows', sample, size);
  let total = 0;
  for (let i = 0; i < used; i++) {
    // Every row against all sampled rows, itself included (the histogram range then spans the sample each time).
    const scores = scoreRows(spec, sample, used, sample.subarray(i * size, (i + 1) * size), resolved);
    for (let j = 0; j < used; j++) if (j !== i) total += scores[j]!;
  }
  return total / (used * (used - 1));
}

function scoreRows(
  spec: MetricSpec,
  candidates: Float32Array,
  count: number,
  reference: Float32Array,
  options: ResolvedMetricOptions,
): Float64Array {
  const size = reference.length;
  const measure = spec.prepare(reference, candidates, options);
  const scores = new Float64Array(count);
  if (spec.kind === 'similarity') {
    for (let row = 0; row < count; row++) scores[row] = measure(candidates, row * size);
  } else {
    // 0 - d rather than -d, so a distance of 0 scores +0.
    for (let row = 0; row < count; row++) scores[row] = 0 - measure(candidates, row * size);
  }
  return scores;
}

function resolveOptions(options: MetricOptions): ResolvedMetricOptions {
  const p = options.p ?? DEFAULT_MINKOWSKI_P;
  if (typeof p !== 'number' || !Number.isFinite(p) || p < 1) {
    throw usageError(`minkowski p must be a finite number >= 1, got ${p}; leave it unset for the default ${DEFAULT_MINKOWSKI_P}`);
  }
  const bins = options.bins ?? DEFAULT_HISTOGRAM_BINS;
  if (!Number.isInteger(bins) || bins < 1) {
    throw usageError(`histogram bins must be an integer >= 1, got ${bins}; leave it unset for the default ${DEFAULT_HISTOGRAM_BINS}`);
  }
  return { p, bins };
}

function checkReference(what: string, vector: Float32Array): void {
  if (vector.length === 0) throw shapeError(`${what} is empty (size 0): vectors to compare need at least one value`);
  checkFinite(what, vector, vector.length);
}

function checkMatrix(what: string, matrix: Float32Array, count: number, size: number): void {
  if (!Number.isInteger(count) || count < 0) throw shapeError(`${what} count must be a non-negative integer, got ${count}`);
  if (matrix.length !== count * size) {
    throw shapeError(
      `${what} has ${matrix.length} values but count x size = ${count} x ${size} = ${count * size}: ` +
        `pass a row-major count x size matrix (each row as long as the reference)`,
    );
  }
}

/** A NaN or infinite value would silently give a row an arbitrary rank, so it is refused. */
function checkFinite(what: string, values: Float32Array, size: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) {
      const where = values.length > size ? `row ${Math.floor(i / size)}, position ${i % size}` : `position ${i}`;
      throw shapeError(`${what} has a non-finite value (${v}) at ${where}: features must be finite numbers`);
    }
  }
}
