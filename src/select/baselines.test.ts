/** The literature baselines' defining properties, on synthetic selection inputs (real models: prepare.test.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../core/rng.js';
import { badgeSeeding, baldScores, dsaReference, dsaScores, kCenterGreedy, nearestRows } from './baselines.js';
import { selectBatch, strategySpec, type SelectionInput } from './strategies.js';

/** A selection input over given features and probabilities (k classes), every input available. */
function inputOf(
  features: Float32Array,
  size: number,
  probabilities: Float32Array,
  k: number,
  extra: Partial<SelectionInput> = {},
): SelectionInput {
  const n = features.length / size;
  return {
    labels: new Int32Array(n),
    available: new Uint8Array(n).fill(1),
    probabilities,
    numClasses: k,
    target: null,
    features: {
      layer: 'test',
      size,
      rows: async (indices) => {
        const out = new Float32Array(indices.length * size);
        indices.forEach((i, r) => out.set(features.subarray(i * size, (i + 1) * size), r * size));
        return out;
      },
    },
    ...extra,
  };
}

/** n points in d dimensions around `clusters` random centres (uneven sizes), seeded. */
function clustered(n: number, d: number, clusters: number, rng: Rng): Float32Array {
  const centres = Array.from({ length: clusters }, () => Array.from({ length: d }, () => 10 * rng.normal()));
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    // Cluster c takes a share falling with c: random picks crowd into the big clusters.
    const c = Math.min(clusters - 1, Math.floor(clusters * rng.next() ** 3));
    for (let j = 0; j < d; j++) out[i * d + j] = centres[c]![j]! + rng.normal();
  }
  return out;
}

const squared = (a: Float32Array, i: number, b: Float32Array, j: number, d: number): number => {
  let s = 0;
  for (let k = 0; k < d; k++) s += (a[i * d + k]! - b[j * d + k]!) ** 2;
  return s;
};

/** The k-center objective: the largest distance from a pool point to its nearest pick. */
function coverRadius(points: Float32Array, d: number, picks: ArrayLike<number>): number {
  const n = points.length / d;
  let worst = 0;
  for (let i = 0; i < n; i++) {
    let nearest = Infinity;
    for (let p = 0; p < picks.length; p++) nearest = Math.min(nearest, squared(points, i, points, picks[p]!, d));
    worst = Math.max(worst, nearest);
  }
  return Math.sqrt(worst);
}

test('nearestRows: the nearest row and its squared distance, as a brute-force search finds them', () => {
  const rng = new Rng(1);
  for (const [n, m, d] of [
    [1, 1, 1],
    [7, 5, 3],
    [33, 17, 9],
  ] as const) {
    const a = Float32Array.from({ length: n * d }, () => rng.normal());
    const b = Float32Array.from({ length: m * d }, () => rng.normal());
    const { distance, index } = nearestRows(a, n, b, m, d);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 1; j < m; j++) if (squared(a, i, b, j, d) < squared(a, i, b, best, d)) best = j;
      assert.equal(index[i], best);
      assert.ok(Math.abs(distance[i]! - squared(a, i, b, best, d)) < 1e-4);
    }
  }
  assert.deepEqual(Array.from(nearestRows(new Float32Array(2), 2, new Float32Array(0), 0, 1).distance), [Infinity, Infinity]);
});

test('coreset covers the pool better than random under the k-center objective, on several seeds', async () => {
  const d = 6;
  const n = 400;
  for (const seed of [1, 2, 3, 4, 5]) {
    const rng = new Rng(seed);
    const points = clustered(n, d, 12, rng);
    const input = inputOf(points, d, new Float32Array(n * 2).fill(0.5), 2);
    const options = { batch: 12, alpha: 0, rng: new Rng(seed) };
    const coreset = await selectBatch(strategySpec('coreset'), input, options);
    const random = await selectBatch(strategySpec('random'), input, options);
    const ours = coverRadius(points, d, coreset.indices);
    const theirs = coverRadius(points, d, random.indices);
    assert.ok(ours < theirs, `seed ${seed}: coreset radius ${ours.toFixed(2)} < random ${theirs.toFixed(2)}`);
    // Greedy k-center is a 2-approximation: its radius is at most twice the best, hence at most twice any other picks'.
    assert.ok(ours <= 2 * theirs);
    // Each pick's score is its distance to the nearest centre when picked: non-increasing after the first.
    const scores = Array.from(coreset.scores).slice(1);
    assert.ok(scores.every((s, i) => i === 0 || s <= scores[i - 1]! + 1e-9));
  }
});

test('coreset starts from the training set: the first picks lie where training features are not', async () => {
  const d = 2;
  // Pool: 50 points near (0, 0), 50 near (20, 0); training features cover (0, 0) only.
  const rng = new Rng(7);
  const points = Float32Array.from({ length: 100 * d }, (_, k) => (k % 2 === 0 ? (k < 100 ? 0 : 20) : 0) + 0.3 * rng.normal());
  const train = { values: Float32Array.from({ length: 20 * d }, () => 0.3 * rng.normal()), size: d, labels: new Int32Array(20), count: 20 };
  const input = inputOf(points, d, new Float32Array(200).fill(0.5), 2, { trainFeatures: train });
  const s = await selectBatch(strategySpec('coreset'), input, { batch: 5, alpha: 0, rng: new Rng(1) });
  assert.ok(s.indices[0]! >= 50, 'the first pick is in the cluster the training set does not cover');
  // Without the training set the picks so far (inputs no longer available) are the centres.
  const bare = inputOf(points, d, new Float32Array(200).fill(0.5), 2);
  for (let i = 0; i < 50; i++) bare.available[i] = 0;
  const t = await selectBatch(strategySpec('coreset'), bare, { batch: 1, alpha: 0, rng: new Rng(1) });
  assert.ok(t.indices[0]! >= 50);
  // kCenterGreedy without centres starts at `first`.
  assert.equal(kCenterGreedy(points, 100, d, new Float64Array(100).fill(Infinity), 1, 42).picks[0], 42);
});

/** BADGE's embedding of row i: (p - onehot(argmax p)) ⊗ h, k x d values. */
function embedding(p: Float32Array, h: Float32Array, k: number, d: number, i: number): number[] {
  let top = 0;
  for (let c = 1; c < k; c++) if (p[i * k + c]! > p[i * k + top]!) top = c;
  const out: number[] = [];
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) out.push((p[i * k + c]! - (c === top ? 1 : 0)) * h[i * d + j]!);
  return out;
}

function meanPairwiseDistance(rows: number[][]): number {
  let sum = 0;
  let pairs = 0;
  for (let a = 0; a < rows.length; a++)
    for (let b = a + 1; b < rows.length; b++) {
      sum += Math.sqrt(rows[a]!.reduce((s, v, j) => s + (v - rows[b]![j]!) ** 2, 0));
      pairs++;
    }
  return sum / pairs;
}

test('badge: picks are more diverse than top-entropy on a pool with duplicated uncertain inputs, and prefer uncertain inputs', async () => {
  const k = 3;
  const d = 5;
  const rng = new Rng(11);
  // 30 copies of one very uncertain input, 60 distinct moderately uncertain inputs, 60 confident ones.
  const n = 150;
  const h = new Float32Array(n * d);
  const p = new Float32Array(n * k);
  const duplicate = Array.from({ length: d }, () => rng.normal());
  for (let i = 0; i < n; i++) {
    const row = i < 30 ? duplicate : Array.from({ length: d }, () => rng.normal());
    h.set(row, i * d);
    const probs = i < 30 ? [0.34, 0.33, 0.33] : i < 90 ? [0.5, 0.3, 0.2] : [0.995, 0.003, 0.002];
    p.set(probs, i * k);
  }
  const input = inputOf(h, d, p, k);
  const options = { batch: 10, alpha: 0, rng: new Rng(3) };
  const badge = await selectBatch(strategySpec('badge'), input, options);
  const entropy = await selectBatch(strategySpec('entropy'), input, options);
  const embed = (picks: Int32Array): number[][] => Array.from(picks, (i) => embedding(p, h, k, d, i));
  const badgeSpread = meanPairwiseDistance(embed(badge.indices));
  const entropySpread = meanPairwiseDistance(embed(entropy.indices));
  assert.ok(
    Array.from(entropy.indices).every((i) => i < 30),
    'top-entropy takes the duplicates',
  );
  assert.ok(badgeSpread > entropySpread, `badge ${badgeSpread.toFixed(3)} > entropy ${entropySpread.toFixed(3)}`);
  assert.ok(Array.from(badge.indices).filter((i) => i < 30).length <= 1, 'at most one of the duplicates');
  // Uncertain inputs have long gradient embeddings; confident ones sit near the origin, which one pick covers.
  assert.ok(Array.from(badge.indices).filter((i) => i >= 90).length <= 1, 'at most one confident input');
  const norm = (i: number): number => Math.hypot(...embedding(p, h, k, d, i));
  const largest = Array.from({ length: n }, (_, i) => i).reduce((a, b) => (norm(b) > norm(a) ? b : a));
  assert.equal(badge.indices[0], largest, 'the first pick is the longest embedding');
  // Same seed, same picks; the factorised distances agree with the embeddings'.
  assert.deepEqual(badge, await selectBatch(strategySpec('badge'), input, { ...options, rng: new Rng(3) }));
  const u = new Float32Array(n * k);
  const ones = new Float32Array(n).fill(1);
  for (let i = 0; i < n; i++) u.set(embedding(p, ones, k, 1, i), i * k);
  const seeded = badgeSeeding(u, k, h, d, n, 2, new Rng(5));
  const [a, b] = seeded.picks as [number, number];
  const direct = embedding(p, h, k, d, a).reduce((s, v, j) => s + (v - embedding(p, h, k, d, b)[j]!) ** 2, 0);
  assert.ok(Math.abs(seeded.distances[1]! - direct) < 1e-4, 'the second pick scores its squared distance to the first');
});

test('bald: zero when every pass agrees, positive where passes disagree, and picks the disagreement', async () => {
  const k = 2;
  const same = Float32Array.from([0.5, 0.5, 0.9, 0.1, 0.2, 0.8]);
  assert.deepEqual(Array.from(baldScores([same, same, same], k, [0, 1, 2])), [0, 0, 0]);
  // Input 1 flips between passes (each pass sure, the mean unsure): the most information about the weights.
  const a = Float32Array.from([0.5, 0.5, 0.99, 0.01, 0.2, 0.8]);
  const b = Float32Array.from([0.5, 0.5, 0.01, 0.99, 0.25, 0.75]);
  const scores = baldScores([a, b], k, [0, 1, 2]);
  assert.equal(scores[0], 0, 'an input that is equally unsure in every pass has no mutual information');
  assert.ok(scores[1]! > 0.5 && scores[2]! > 0 && scores[2]! < scores[1]!);
  const input = inputOf(new Float32Array(3), 1, a, k, { stochastic: [a, b] });
  const s = await selectBatch(strategySpec('bald'), input, { batch: 1, alpha: 0, rng: new Rng(1) });
  assert.equal(s.indices[0], 1);
});

test('dsa: an input far from the training activations scores above a training input; its formula on a small case', async () => {
  // Reference: class 0 at (0, 0) and (1, 0); class 1 at (4, 0).
  const reference = dsaReference({ values: Float32Array.of(0, 0, 1, 0, 4, 0), size: 2, labels: Int32Array.of(0, 0, 1), count: 3 }, 2);
  // Predicted 0: x_a is the nearer of (0, 0) and (1, 0); x_b = (4, 0), 3 from (1, 0) and 4 from (0, 0).
  const scores = dsaScores(reference, Float32Array.of(1, 0, 10, 0, 1, 3), Int32Array.of(0, 0, 0));
  assert.equal(scores[0], 0, 'a training input is not surprising');
  assert.ok(Math.abs(scores[1]! - 9 / 3) < 1e-6, `(10, 0): 9 from (1, 0), whose other class is 3 away: ${scores[1]}`);
  assert.ok(Math.abs(scores[2]! - 3 / 3) < 1e-6);
  assert.equal(dsaScores(reference, Float32Array.of(0, 0), Int32Array.of(1))[0], 4 / 3, 'class 1: x_a = (4, 0), x_b = (1, 0)');
  // Through the strategy: the far input is picked first.
  const features = Float32Array.of(1, 0, 10, 0, 0.5, 0.1);
  const p = Float32Array.of(0.9, 0.1, 0.9, 0.1, 0.9, 0.1);
  const input = inputOf(features, 2, p, 2, {
    trainFeatures: { values: Float32Array.of(0, 0, 1, 0, 4, 0), size: 2, labels: Int32Array.of(0, 0, 1), count: 3 },
  });
  const s = await selectBatch(strategySpec('dsa'), input, { batch: 1, alpha: 0, rng: new Rng(1) });
  assert.equal(s.indices[0], 1);
});

test('a batch larger than the inputs left is refused with one usage line', async () => {
  const input = inputOf(new Float32Array(4), 1, new Float32Array(8).fill(0.5), 2);
  input.available[0] = 0;
  await assert.rejects(
    selectBatch(strategySpec('entropy'), input, { batch: 4, alpha: 0, rng: new Rng(1) }),
    (e: Error & { code?: string }) =>
      e.message === 'a batch of 4 inputs is larger than the 3 pool inputs left; lower --batch or --budget, or use a larger pool' &&
      e.code === 'usage',
  );
});
