import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ModeError } from '../core/errors.js';
import {
  BHATTACHARYYA_MIN_COEFFICIENT,
  METRIC_NAMES,
  METRICS,
  type MetricName,
  type MetricOptions,
  meanPairwiseSimilarity,
  metricValue,
  parseMetric,
  scoreCandidates,
} from './metrics.js';

const f32 = (values: readonly number[]): Float32Array => Float32Array.from(values);
const matrix = (rows: readonly (readonly number[])[]): Float32Array => Float32Array.from(rows.flat());
const close = (actual: number, expected: number, tolerance = 1e-9): boolean =>
  Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(actual), Math.abs(expected));
const assertClose = (actual: number, expected: number, message?: string): void =>
  assert.ok(close(actual, expected), `${message ?? ''} expected ${expected}, got ${actual}`);
/** Row indices from the highest score to the lowest. */
const ranking = (scores: Float64Array): number[] => [...scores.keys()].sort((i, j) => scores[j]! - scores[i]! || i - j);
const failsWith =
  (code: string, pattern: RegExp) =>
  (error: unknown): boolean =>
    error instanceof ModeError && error.code === code && pattern.test(error.message);

// Vectors of 1-10 values mixing exact zeros, small integers (ties, 0/0 terms) and arbitrary floats.
const value = fc.oneof(fc.constant(0), fc.integer({ min: -3, max: 3 }), fc.float({ min: -100, max: 100, noNaN: true }));
const vector = (size: number) => fc.array(value, { minLength: size, maxLength: size });
const comparison = fc.integer({ min: 1, max: 10 }).chain((size) =>
  fc.record({
    reference: vector(size),
    others: fc.array(vector(size), { maxLength: 6 }),
    position: fc.nat(),
    options: fc.record({ p: fc.constantFrom(1, 1.5, 2, 3, 4.5, 7, 20), bins: fc.constantFrom(1, 2, 7, 32) }),
  }),
);
type Comparison = typeof comparison extends fc.Arbitrary<infer T> ? T : never;

test('the table has exactly the listed metrics, in order, each described', () => {
  assert.deepEqual(Object.keys(METRICS), [...METRIC_NAMES]);
  for (const name of METRIC_NAMES) {
    assert.ok(METRICS[name].description.length > 0, name);
    assert.equal(parseMetric(name), name);
  }
});

// Shrunk counterexamples fast-check found (in 5000+ runs) against careless rounding: cosine as
// dot / (|a| |b|) scored a copy of the first reference below 1, bhattacharyya without renormalising its
// coefficient gave the second reference a distance above 0. Run first for every metric.
const ROUNDING_EXAMPLES: [Comparison][] = [
  [{ reference: [2.980232594040899e-8, -3], others: [[0, -1]], position: 0, options: { p: 1, bins: 1 } }],
  [
    {
      reference: [0, 0, 0, -1.9096718540299328e-21, 9.403955703409317e-37, 0, -1.4283348396742707e-31, 0],
      others: [[0, 0, 0, -12.058026313781738, 0, 0, 0, 0]],
      position: 0,
      options: { p: 1, bins: 1 },
    },
  ],
];
// The contract every metric in the table meets (a new metric is covered by adding it to the table).
for (const metric of METRIC_NAMES) {
  const spec = METRICS[metric];
  test(`contract: ${metric}`, () => {
    fc.assert(
      fc.property(comparison, ({ reference, others, position, options }) => {
        const at = position % (others.length + 1);
        const rows = [...others.slice(0, at), reference, ...others.slice(at)];
        const ref = f32(reference);
        const scores = scoreCandidates(metric, matrix(rows), rows.length, ref, options);
        assert.equal(scores.length, rows.length);
        // The reference itself scores at least as high as every candidate (ties: copies, or the
        // same distribution after shifting and normalising).
        if (spec.identityRanksFirst)
          assert.ok(scores[at]! >= Math.max(...scores), `reference scored ${scores[at]}, best ${Math.max(...scores)}`);
        rows.forEach((row, j) => {
          const candidate = f32(row);
          const raw = metricValue(metric, ref, candidate, options);
          assert.ok(Number.isFinite(raw), `${metric} gave ${raw}`);
          if (spec.kind === 'distance') assert.ok(raw >= 0, `${metric} distance ${raw} < 0`);
          const expected = spec.kind === 'similarity' ? raw : 0 - raw;
          // Row by row, the vectorised scores agree with metricValue exactly; for a metric whose
          // scores depend on the whole candidate set (the histogram's range), one row at a time.
          const score = spec.rowIndependent ? scores[j]! : scoreCandidates(metric, candidate, 1, ref, options)[0]!;
          assert.equal(score, expected);
          if (spec.symmetric) assertClose(metricValue(metric, candidate, ref, options), raw, `${metric} not symmetric:`);
        });
      }),
      { numRuns: 100, examples: ROUNDING_EXAMPLES },
    );
  });
}

// Each metric written the obvious way over plain arrays, as an independent check of the fast paths.
const sum = (values: number[]): number => values.reduce((s, v) => s + v, 0);
const distribution = (v: number[]): number[] => {
  const min = Math.min(...v);
  const shifted = min < 0 ? v.map((x) => x - min) : v;
  const total = sum(shifted);
  return total > 0 ? shifted.map((x) => x / total) : v.map(() => 1 / v.length);
};
const cumulative = (v: number[]): number[] => v.map((_, i) => sum(v.slice(0, i + 1)));
const histogram = (v: number[], low: number, high: number, bins: number): number[] => {
  const counts = new Array<number>(bins).fill(0);
  // Same bin formula as the implementation, so values on a bin edge land in the same bin.
  for (const x of v) counts[high > low ? Math.min(bins - 1, Math.floor((x - low) * (bins / (high - low)))) : 0]! += 1;
  return counts;
};
const ORACLE: { [K in MetricName]: (a: number[], b: number[], options: Required<MetricOptions>) => number } = {
  dot: (a, b) => sum(a.map((x, i) => x * b[i]!)),
  cosine: (a, b) => {
    const norms = Math.hypot(...a) * Math.hypot(...b);
    return norms === 0 ? 0 : Math.max(-1, Math.min(1, sum(a.map((x, i) => x * b[i]!)) / norms));
  },
  manhattan: (a, b) => sum(a.map((x, i) => Math.abs(x - b[i]!))),
  euclidean: (a, b) => Math.hypot(...a.map((x, i) => x - b[i]!)),
  minkowski: (a, b, { p }) => sum(a.map((x, i) => Math.abs(x - b[i]!) ** p)) ** (1 / p),
  chebyshev: (a, b) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!))),
  'earth-mover': (a, b) => {
    const [ca, cb] = [cumulative(distribution(a)), cumulative(distribution(b))];
    return sum(ca.map((x, i) => Math.abs(x - cb[i]!)));
  },
  'earth-mover-histogram': (a, b, { bins }) => {
    const low = Math.min(...a, ...b);
    const high = Math.max(...a, ...b);
    const [ca, cb] = [cumulative(histogram(a, low, high, bins)), cumulative(histogram(b, low, high, bins))];
    return ((high - low) / bins) * sum(ca.map((x, i) => Math.abs(x - cb[i]!) / a.length));
  },
  canberra: (a, b) => sum(a.map((x, i) => (x === 0 && b[i] === 0 ? 0 : Math.abs(x - b[i]!) / (Math.abs(x) + Math.abs(b[i]!))))),
  'bray-curtis': (a, b) => {
    const denominator = sum(a.map((x, i) => Math.abs(x) + Math.abs(b[i]!)));
    return denominator === 0 ? 0 : sum(a.map((x, i) => Math.abs(x - b[i]!))) / denominator;
  },
  bhattacharyya: (a, b) => {
    const [p, q] = [distribution(a), distribution(b)];
    const coefficient = Math.min(1, sum(p.map((x, i) => Math.sqrt(x * q[i]!))));
    return -Math.log(Math.max(coefficient, BHATTACHARYYA_MIN_COEFFICIENT));
  },
};

test('every metric agrees with its textbook formula', () => {
  for (const metric of METRIC_NAMES) {
    fc.assert(
      fc.property(comparison, ({ reference, others, options }) => {
        for (const other of others) {
          // The oracle sees the float32-rounded values the implementation sees.
          const [a, b] = [f32(reference), f32(other)];
          assertClose(metricValue(metric, a, b, options), ORACLE[metric]([...a], [...b], options), `${metric}:`);
        }
      }),
      { numRuns: 50 },
    );
  }
});

test('golden values for a = [0, 1, 3], b = [2, 1, 0], worked by hand', () => {
  // Distributions (earth mover, bhattacharyya): a -> [0, 1/4, 3/4], b -> [2/3, 1/3, 0].
  // Histogram, 6 bins of width 1/2 over [0, 3]: a fills bins {0, 2, 5}, b bins {0, 2, 4}; the CDFs differ
  // by 1/3 in bin 4 only, so W1 = 1/2 x 1/3 (the exact value-space W1 is 1/3: binning halves it here).
  const golden: { [K in MetricName]: number } = {
    dot: 1,
    cosine: 1 / Math.sqrt(50),
    manhattan: 5,
    euclidean: Math.sqrt(13),
    minkowski: Math.cbrt(35),
    chebyshev: 3,
    'earth-mover': 2 / 3 + 3 / 4,
    'earth-mover-histogram': 1 / 6,
    canberra: 2 / 2 + 0 / 2 + 3 / 3,
    'bray-curtis': 5 / 7,
    bhattacharyya: 0.5 * Math.log(12),
  };
  for (const metric of METRIC_NAMES) {
    assertClose(metricValue(metric, f32([0, 1, 3]), f32([2, 1, 0]), { p: 3, bins: 6 }), golden[metric], `${metric}:`);
  }
});

test('dot: positive multiples of the reference rank by their multiplier; among unit vectors the reference ranks first', () => {
  const nonZero = fc
    .array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 12 })
    .filter((v) => Math.hypot(...v) > 0.1);
  fc.assert(
    fc.property(nonZero, fc.shuffledSubarray([0.25, 0.5, 1, 2, 4, 8], { minLength: 2 }), (reference, multipliers) => {
      const scores = scoreCandidates(
        'dot',
        matrix(multipliers.map((c) => reference.map((x) => c * x))),
        multipliers.length,
        f32(reference),
      );
      const byMultiplier = [...multipliers.keys()].sort((i, j) => multipliers[j]! - multipliers[i]!);
      assert.deepEqual(ranking(scores), byMultiplier);
    }),
    { numRuns: 100 },
  );
  const unit = (v: number[]): number[] => v.map((x) => x / Math.hypot(...v));
  const unitCase = fc.integer({ min: 1, max: 12 }).chain((size) => {
    const direction = fc
      .array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: size, maxLength: size })
      .filter((v) => Math.hypot(...v) > 0.1);
    return fc.tuple(direction, fc.array(direction, { maxLength: 6 }), fc.nat());
  });
  fc.assert(
    fc.property(unitCase, ([reference, others, position]) => {
      const candidates = others.map(unit);
      const at = position % (candidates.length + 1);
      candidates.splice(at, 0, unit(reference));
      const scores = scoreCandidates('dot', matrix(candidates), candidates.length, f32(unit(reference)));
      // Float32 unit vectors are unit to ~1e-7.
      assert.ok(scores[at]! >= Math.max(...scores) - 1e-6);
    }),
    { numRuns: 100 },
  );
});

test('earth mover: mass moved one position scores higher than mass moved five (the replication had it backwards)', () => {
  const bump = (start: number, background: number): number[] =>
    Array.from({ length: 20 }, (_, i) => background + ([1, 2, 1][i - start] ?? 0));
  for (const background of [0, -3]) {
    // Candidates: moved five, moved one, the reference itself.
    const reference = bump(5, background);
    const candidates = [bump(10, background), bump(6, background), reference];
    const scores = scoreCandidates('earth-mover', matrix(candidates), 3, f32(reference));
    assert.deepEqual(ranking(scores), [2, 1, 0]);
    // Unit spacing: moving all the mass k positions costs exactly k.
    assertClose(metricValue('earth-mover', f32(reference), f32(candidates[1]!)), 1);
    assertClose(metricValue('earth-mover', f32(reference), f32(candidates[0]!)), 5);
    // The histogram variant compares values, not positions: the moved copies hold the same values.
    assert.deepEqual([...scoreCandidates('earth-mover-histogram', matrix(candidates), 3, f32(reference))], [0, 0, 0]);
  }
});

test('canberra: a hand-computed value, and it ranks candidates differently from chebyshev', () => {
  // |1-3|/(1+3) + |2-2|/(2+2) + (0/0 counts 0) + |-1-1|/(1+1) = 0.5 + 0 + 0 + 1
  assert.equal(metricValue('canberra', f32([1, 2, 0, -1]), f32([3, 2, 0, 1])), 1.5);
  // One large difference (canberra 4/6, chebyshev 4) against four small ones (canberra 4 x 1/3, chebyshev 1).
  const candidates = matrix([
    [1, 1, 1, 5],
    [2, 2, 2, 2],
  ]);
  const reference = f32([1, 1, 1, 1]);
  assert.deepEqual(ranking(scoreCandidates('canberra', candidates, 2, reference)), [0, 1]);
  assert.deepEqual(ranking(scoreCandidates('chebyshev', candidates, 2, reference)), [1, 0]);
});

test('bhattacharyya: 0 for identical distributions, capped for disjoint ones', () => {
  const a = f32([0.5, 0, 2, 1.5]);
  assert.equal(metricValue('bhattacharyya', a, a), 0);
  assert.ok(
    metricValue(
      'bhattacharyya',
      a,
      a.map((x) => 4 * x),
    ) < 1e-12,
  ); // the same distribution
  assertClose(metricValue('bhattacharyya', f32([1, 0]), f32([0, 1])), -Math.log(BHATTACHARYYA_MIN_COEFFICIENT));
});

test('scores are deterministic and read views at an offset correctly', () => {
  const values = f32(Array.from({ length: 5 * 8 }, (_, i) => Math.sin(i * 1.7) * 3));
  const reference = values.subarray(8, 16);
  const candidates = values.subarray(8); // a view starting one row in: 4 rows of 8
  for (const metric of METRIC_NAMES) {
    const scores = scoreCandidates(metric, candidates, 4, reference);
    assert.deepEqual(scores, scoreCandidates(metric, candidates.slice(), 4, reference.slice()), metric);
    assert.equal(scores[0], metric === 'dot' || metric === 'cosine' ? metricValue(metric, reference, reference) : 0, metric);
  }
});

test('meanPairwiseSimilarity: hand values, first 200 rows only, NaN without pairs', () => {
  const rows = matrix([
    [1, 0],
    [0, 1],
    [1, 1],
  ]);
  // Pairwise distances sqrt(2), 1, 1; cosines 0, 1/sqrt(2), 1/sqrt(2).
  assertClose(meanPairwiseSimilarity('euclidean', rows, 3, 2), -(Math.SQRT2 + 2) / 3);
  assertClose(meanPairwiseSimilarity('cosine', rows, 3, 2), Math.SQRT2 / 3);
  // 200 equal rows, then 50 different ones that are never looked at.
  const many = matrix([...new Array<number[]>(200).fill([1, 2, 3]), ...new Array<number[]>(50).fill([-3, 0, 9])]);
  assert.equal(meanPairwiseSimilarity('cosine', many, 250, 3), 1);
  assert.equal(meanPairwiseSimilarity('euclidean', many, 250, 3), 0);
  assert.ok(Number.isNaN(meanPairwiseSimilarity('cosine', f32([1, 2]), 1, 2)));
});

test('bad input fails with a message saying what was expected', () => {
  assert.throws(
    () => parseMetric('cosin'),
    failsWith('usage', /^unknown metric 'cosin': must be one of \[dot, cosine, manhattan, .*bhattacharyya\]$/),
  );
  assert.throws(() => scoreCandidates('euclid' as MetricName, f32([1]), 1, f32([1])), failsWith('usage', /unknown metric 'euclid'/));
  assert.throws(
    () => scoreCandidates('cosine', new Float32Array(10), 3, new Float32Array(4)),
    failsWith('shape', /candidates has 10 values but count x size = 3 x 4 = 12/),
  );
  assert.throws(() => metricValue('cosine', f32([1, 2, 3]), f32([1, 2, 3, 4])), failsWith('shape', /different lengths: 3 and 4/));
  assert.throws(
    () => scoreCandidates('cosine', f32([1, 2]), 1, f32([1, NaN])),
    failsWith('shape', /reference has a non-finite value \(NaN\) at position 1/),
  );
  assert.throws(
    () => scoreCandidates('cosine', f32([1, 2, Infinity, 0]), 2, f32([1, 2])),
    failsWith('shape', /candidates has a non-finite value \(Infinity\) at row 1, position 0/),
  );
  assert.throws(() => scoreCandidates('cosine', f32([]), 0, f32([])), failsWith('shape', /reference is empty/));
  assert.throws(
    () => scoreCandidates('minkowski', f32([1]), 1, f32([1]), { p: 0.5 }),
    failsWith('usage', /minkowski p must be a finite number >= 1, got 0.5/),
  );
  assert.throws(
    () => scoreCandidates('earth-mover-histogram', f32([1]), 1, f32([1]), { bins: 0 }),
    failsWith('usage', /histogram bins must be an integer >= 1, got 0/),
  );
  assert.throws(
    () => meanPairwiseSimilarity('cosine', f32([1, 2, 3]), 2, 2),
    failsWith('shape', /rows has 3 values but count x size = 2 x 2 = 4/),
  );
  assert.throws(
    () => meanPairwiseSimilarity('cosine', f32([1, 2]), 2, 0),
    failsWith('shape', /row size must be a positive integer, got 0/),
  );
});
