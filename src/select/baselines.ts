/**
 * The numeric kernels of the literature baselines among the selection strategies (docs/method.md
 * section 7): BADGE's k-means++ seeding over gradient embeddings, core-set's greedy k-center, BALD's
 * mutual information from Monte Carlo dropout passes, and distance-based surprise adequacy (DSA).
 * Pure functions over row-major Float32Array matrices; nearest-neighbour searches go through
 * `nearestRows`, which computes squared distances from dot products (||a||^2 + ||b||^2 - 2 a.b) a block
 * of rows at a time, so no N x M matrix is ever held.
 */
import type { Rng } from '../core/rng.js';

/** Squared Euclidean norms of the rows of an n x d matrix. */
function squaredNorms(m: Float32Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = i * d, end = k + d; k < end; k++) s += m[k]! * m[k]!;
    out[i] = s;
  }
  return out;
}

/**
 * For each of the n rows of `a`, the squared distance to its nearest of the m rows of `b` (both d wide)
 * and that row's position; m = 0 gives Infinity and -1. Four rows of `a` share each pass over `b`.
 */
export function nearestRows(
  a: Float32Array,
  n: number,
  b: Float32Array,
  m: number,
  d: number,
): { distance: Float64Array; index: Int32Array } {
  const distance = new Float64Array(n).fill(Infinity);
  const index = new Int32Array(n).fill(-1);
  if (m === 0) return { distance, index };
  const na = squaredNorms(a, n, d);
  const nb = squaredNorms(b, m, d);
  for (let i = 0; i < n; i += 4) {
    const i1 = Math.min(i + 1, n - 1);
    const i2 = Math.min(i + 2, n - 1);
    const i3 = Math.min(i + 3, n - 1);
    const o0 = i * d;
    const o1 = i1 * d;
    const o2 = i2 * d;
    const o3 = i3 * d;
    let m0 = Infinity;
    let m1 = Infinity;
    let m2 = Infinity;
    let m3 = Infinity;
    let j0 = -1;
    let j1 = -1;
    let j2 = -1;
    let j3 = -1;
    for (let j = 0; j < m; j++) {
      const oj = j * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < d; k++) {
        const v = b[oj + k]!;
        s0 += a[o0 + k]! * v;
        s1 += a[o1 + k]! * v;
        s2 += a[o2 + k]! * v;
        s3 += a[o3 + k]! * v;
      }
      const q = nb[j]!;
      const d0 = q - 2 * s0;
      const d1 = q - 2 * s1;
      const d2 = q - 2 * s2;
      const d3 = q - 2 * s3;
      if (d0 < m0) ((m0 = d0), (j0 = j));
      if (d1 < m1) ((m1 = d1), (j1 = j));
      if (d2 < m2) ((m2 = d2), (j2 = j));
      if (d3 < m3) ((m3 = d3), (j3 = j));
    }
    distance[i] = Math.max(0, m0 + na[i]!);
    index[i] = j0;
    distance[i1] = Math.max(0, m1 + na[i1]!);
    index[i1] = j1;
    distance[i2] = Math.max(0, m2 + na[i2]!);
    index[i2] = j2;
    distance[i3] = Math.max(0, m3 + na[i3]!);
    index[i3] = j3;
  }
  return { distance, index };
}

/** Rows `indices` of an n x d matrix, as a new matrix. */
export function gatherRows(m: Float32Array, d: number, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * d);
  for (let r = 0; r < indices.length; r++) out.set(m.subarray(indices[r]! * d, (indices[r]! + 1) * d), r * d);
  return out;
}

/**
 * Greedy k-center (core-set, Sener & Savarese 2018): `count` of the n rows of `features`, each the
 * row farthest from its nearest centre so far (ties to the lower position). `minDistance` (squared, n
 * long) holds each row's distance to the initial centres; without any (all Infinity), the first pick
 * is `first`. O(n d) per pick. Returns the positions picked and each one's distance (not squared) when
 * picked (Infinity for a first pick without centres).
 */
export function kCenterGreedy(
  features: Float32Array,
  n: number,
  d: number,
  minDistance: Float64Array,
  count: number,
  first: number,
): { picks: number[]; distances: number[] } {
  const picks: number[] = [];
  const distances: number[] = [];
  const norms = squaredNorms(features, n, d);
  for (let p = 0; p < Math.min(count, n); p++) {
    let best = -1;
    for (let i = 0; i < n; i++) if (best === -1 || minDistance[i]! > minDistance[best]!) best = i;
    if (minDistance[best] === Infinity) best = first;
    picks.push(best);
    distances.push(Math.sqrt(minDistance[best]!));
    const ob = best * d;
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let k = 0, oi = i * d; k < d; k++) dot += features[oi + k]! * features[ob + k]!;
      const dist = Math.max(0, norms[i]! + norms[best]! - 2 * dot);
      if (dist < minDistance[i]!) minDistance[i] = dist;
    }
  }
  return { picks, distances };
}

/**
 * BADGE (Ash et al. 2020): k-means++ seeding over the gradient embeddings g_i = u_i ⊗ h_i of the last
 * layer, u_i = p_i - onehot(argmax p_i) (k wide), h_i the penultimate features (d wide). The embeddings
 * are never built: ||g_i - g_j||^2 = ||u_i||^2 ||h_i||^2 + ||u_j||^2 ||h_j||^2 - 2 (u_i.u_j)(h_i.h_j),
 * O(k + d) per pair. The first pick is the largest embedding (as the authors' code does), then each
 * pick is drawn with probability proportional to its squared distance to the nearest pick (D^2
 * sampling). Returns the positions picked and each one's squared distance when picked (its norm for
 * the first).
 */
export function badgeSeeding(
  u: Float32Array,
  k: number,
  h: Float32Array,
  d: number,
  n: number,
  count: number,
  rng: Rng,
): { picks: number[]; distances: number[] } {
  const un = squaredNorms(u, n, k);
  const hn = squaredNorms(h, n, d);
  const norms = un.map((v, i) => v * hn[i]!);
  const minDistance = new Float64Array(n).fill(Infinity);
  const picks: number[] = [];
  const distances: number[] = [];
  const taken = new Uint8Array(n);
  for (let p = 0; p < Math.min(count, n); p++) {
    let pick = -1;
    if (p === 0) {
      for (let i = 0; i < n; i++) if (pick === -1 || norms[i]! > norms[pick]!) pick = i;
    } else {
      let total = 0;
      for (let i = 0; i < n; i++) if (taken[i] === 0) total += minDistance[i]!;
      if (total > 0) {
        let r = rng.next() * total;
        for (let i = 0; i < n; i++) {
          if (taken[i] === 1 || minDistance[i]! <= 0) continue;
          pick = i;
          r -= minDistance[i]!;
          if (r < 0) break;
        }
      } else {
        // Every row left coincides with a pick: uniformly among them.
        const left: number[] = [];
        for (let i = 0; i < n; i++) if (taken[i] === 0) left.push(i);
        pick = left[rng.int(left.length)]!;
      }
    }
    taken[pick] = 1;
    picks.push(pick);
    distances.push(p === 0 ? norms[pick]! : minDistance[pick]!);
    const ou = pick * k;
    const oh = pick * d;
    for (let i = 0; i < n; i++) {
      if (taken[i] === 1) continue;
      let du = 0;
      for (let c = 0, oi = i * k; c < k; c++) du += u[oi + c]! * u[ou + c]!;
      let dh = 0;
      for (let c = 0, oi = i * d; c < d; c++) dh += h[oi + c]! * h[oh + c]!;
      const dist = Math.max(0, norms[i]! + norms[pick]! - 2 * du * dh);
      if (dist < minDistance[i]!) minDistance[i] = dist;
    }
  }
  return { picks, distances };
}

/** BADGE's u_i = p_i - onehot(argmax p_i) for the rows `indices` of count x k probabilities. */
export function lastLayerGradientFactors(probabilities: Float32Array, k: number, indices: readonly number[]): Float32Array {
  const u = new Float32Array(indices.length * k);
  indices.forEach((i, r) => {
    let top = 0;
    for (let c = 1; c < k; c++) if (probabilities[i * k + c]! > probabilities[i * k + top]!) top = c;
    for (let c = 0; c < k; c++) u[r * k + c] = probabilities[i * k + c]! - (c === top ? 1 : 0);
  });
  return u;
}

/**
 * BALD (Houlsby et al. 2011; Gal et al. 2017 with MC dropout): the mutual information between the
 * prediction and the weights, H[mean_t p_t] - mean_t H[p_t], over T passes of class probabilities
 * (each count x k), for the rows `indices`. 0 when every pass gives the same probabilities.
 */
export function baldScores(passes: readonly Float32Array[], k: number, indices: readonly number[]): Float64Array {
  const t = passes.length;
  const mean = new Float64Array(k);
  return Float64Array.from(indices, (i) => {
    mean.fill(0);
    let meanEntropy = 0;
    for (const p of passes) {
      for (let c = 0; c < k; c++) {
        const v = p[i * k + c]!;
        mean[c] = mean[c]! + v / t;
        if (v > 0) meanEntropy -= (v * Math.log(v)) / t;
      }
    }
    let entropy = 0;
    for (let c = 0; c < k; c++) if (mean[c]! > 0) entropy -= mean[c]! * Math.log(mean[c]!);
    // Rounding can leave a tiny negative where the passes agree.
    return Math.max(0, entropy - meanEntropy);
  });
}

/** The reference of DSA: training activations (count x size) with their labels. */
export interface ReferenceSet {
  readonly values: Float32Array;
  readonly size: number;
  readonly labels: Int32Array;
  readonly count: number;
}

/**
 * Per class c, what DSA needs of the reference: its rows of class c, and for each of them the distance
 * to the nearest reference row of another class (dist(x_a, x_b)).
 */
export interface DsaReference {
  readonly size: number;
  readonly classes: readonly { readonly rows: Float32Array; readonly count: number; readonly toOtherClass: Float64Array }[];
}

export function dsaReference(reference: ReferenceSet, numClasses: number): DsaReference {
  const { values, size, labels, count } = reference;
  const classes = Array.from({ length: numClasses }, (_, c) => {
    const mine: number[] = [];
    const others: number[] = [];
    for (let i = 0; i < count; i++) (labels[i] === c ? mine : others).push(i);
    const rows = gatherRows(values, size, mine);
    const other = nearestRows(rows, mine.length, gatherRows(values, size, others), others.length, size);
    return { rows, count: mine.length, toOtherClass: other.distance.map(Math.sqrt) };
  });
  return { size, classes };
}

/**
 * Distance-based surprise adequacy (Kim et al. 2019) of n inputs with activations `rows` and predicted
 * classes `predicted`: ||a(x) - a(x_a)|| / ||a(x_a) - a(x_b)||, x_a the nearest reference row of the
 * predicted class, x_b the reference row of another class nearest to x_a. An input whose predicted
 * class has no reference row is Infinity (as surprising as can be).
 */
export function dsaScores(reference: DsaReference, rows: Float32Array, predicted: Int32Array): Float64Array {
  const n = predicted.length;
  const d = reference.size;
  const out = new Float64Array(n);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const c = predicted[i]!;
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(i);
  }
  for (const [c, positions] of byClass) {
    const ref = reference.classes[c];
    if (ref === undefined || ref.count === 0) {
      for (const i of positions) out[i] = Infinity;
      continue;
    }
    const near = nearestRows(gatherRows(rows, d, positions), positions.length, ref.rows, ref.count, d);
    positions.forEach((i, r) => {
      out[i] = Math.sqrt(near.distance[r]!) / Math.max(ref.toOtherClass[near.index[r]!]!, 1e-12);
    });
  }
  return out;
}

/**
 * k-means++ seeding weighted by `weights` (mode-diversity): the first pick is the row of largest
 * weight, then each pick is drawn with probability proportional to weight x squared distance to the
 * nearest pick, so picks are both heavy (unsure) and spread out. O(n d) per pick. Returns the
 * positions picked and each one's weight x squared distance when picked (its weight for the first).
 */
export function weightedSeeding(
  rows: Float32Array,
  n: number,
  d: number,
  weights: Float64Array,
  count: number,
  rng: Rng,
): { picks: number[]; scores: number[] } {
  const norms = squaredNorms(rows, n, d);
  const minDistance = new Float64Array(n).fill(Infinity);
  const taken = new Uint8Array(n);
  const picks: number[] = [];
  const scores: number[] = [];
  for (let p = 0; p < Math.min(count, n); p++) {
    let pick = -1;
    let total = 0;
    if (p > 0) for (let i = 0; i < n; i++) if (taken[i] === 0) total += weights[i]! * minDistance[i]!;
    if (p === 0 || !(total > 0)) {
      // The first pick, or every row left has weight 0 or coincides with a pick: the heaviest row left.
      for (let i = 0; i < n; i++) if (taken[i] === 0 && (pick === -1 || weights[i]! > weights[pick]!)) pick = i;
    } else {
      let r = rng.next() * total;
      for (let i = 0; i < n; i++) {
        const mass = taken[i] === 1 ? 0 : weights[i]! * minDistance[i]!;
        if (mass <= 0) continue;
        pick = i;
        r -= mass;
        if (r < 0) break;
      }
    }
    taken[pick] = 1;
    picks.push(pick);
    scores.push(p === 0 || !(total > 0) ? weights[pick]! : weights[pick]! * minDistance[pick]!);
    const op = pick * d;
    for (let i = 0; i < n; i++) {
      if (taken[i] === 1) continue;
      let dot = 0;
      for (let c = 0, oi = i * d; c < d; c++) dot += rows[oi + c]! * rows[op + c]!;
      const dist = Math.max(0, norms[i]! + norms[pick]! - 2 * dot);
      if (dist < minDistance[i]!) minDistance[i] = dist;
    }
  }
  return { picks, scores };
}
