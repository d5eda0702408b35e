/** Contract and behaviour tests of the selection strategies. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Rng } from '../core/rng.js';
import {
  formatStrategy,
  parseStrategy,
  rankIndices,
  selectBatch,
  STRATEGIES,
  STRATEGY_KINDS,
  StrategySpecSchema,
  strategySpec,
  strategyTitle,
  type MapsInSpace,
  type SelectionInput,
} from './strategies.js';

/** A pool of n inputs over 3 labels with 4-dim vectors; probabilities favour the true label by `confidence[i]`. */
function pool(n: number, seed: number): { input: SelectionInput; vectors: Float32Array } {
  const rng = new Rng(seed);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  const probabilities = new Float32Array(n * 3);
  const vectors = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const confidence = rng.next();
    for (let c = 0; c < 3; c++) probabilities[i * 3 + c] = c === labels[i] ? confidence : (1 - confidence) / 2;
    for (let j = 0; j < 4; j++) vectors[i * 4 + j] = rng.normal();
  }
  const maps: MapsInSpace = {
    hc: Float32Array.from([1, 0, 0, 0]),
    hm: Float32Array.from([0, 1, 0, 0]),
    hw: Float32Array.from([0, 0, 1, 0]),
    dhc: Float32Array.from([1, 1, 0, 0]),
    dhm: Float32Array.from([1, -1, 0, 0]),
    dhw: Float32Array.from([0, 0, 1, -1]),
  };
  // The baselines' needs: features (the vectors), a small training reference, two dropout passes.
  const train = {
    values: new Float32Array(9 * 4).map(() => rng.normal()),
    size: 4,
    labels: Int32Array.from({ length: 9 }, (_, i) => i % 3),
    count: 9,
  };
  const jittered = probabilities.map((p, i) => p * (1 + (0.2 * ((i * 7919) % 5)) / 5));
  const input: SelectionInput = {
    labels,
    available: new Uint8Array(n).fill(1),
    probabilities,
    numClasses: 3,
    target: { label: 1, kind: 'underfitting' },
    maps,
    vectors: async (indices) => {
      const out = new Float32Array(indices.length * 4);
      indices.forEach((i, k) => out.set(vectors.subarray(i * 4, i * 4 + 4), k * 4));
      return out;
    },
    features: {
      layer: 'vectors',
      size: 4,
      rows: async (indices) => {
        const out = new Float32Array(indices.length * 4);
        indices.forEach((i, k) => out.set(vectors.subarray(i * 4, i * 4 + 4), k * 4));
        return out;
      },
    },
    trainFeatures: train,
    stochastic: [probabilities, jittered],
    confusedWith: 2,
  };
  return { input, vectors };
}

test('every strategy: distinct available in-range picks, the targeted share from the target label, same seed same picks', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 30, max: 120 }),
      fc.integer({ min: 1, max: 40 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.integer({ min: 0, max: 1000 }),
      async (n, wanted, alpha, seed) => {
        const { input } = pool(n, seed);
        for (let i = 0; i < n; i += 7) input.available[i] = 0;
        const batch = Math.min(
          wanted,
          input.available.reduce((s, v) => s + v, 0),
        );
        for (const name of STRATEGY_KINDS) {
          const spec = strategySpec(name);
          const a = await selectBatch(spec, input, { batch, alpha, rng: new Rng(seed) });
          const b = await selectBatch(spec, input, { batch, alpha, rng: new Rng(seed) });
          assert.deepEqual(a, b, `${name} is deterministic`);
          const picks = Array.from(a.indices);
          assert.equal(new Set(picks).size, picks.length, `${name} picks distinct inputs`);
          assert.ok(
            picks.every((i) => i >= 0 && i < n && input.available[i] === 1),
            `${name} picks available inputs`,
          );
          const availableCount = input.available.reduce((s, v) => s + v, 0);
          const targeted = picks.filter((_, k) => a.targeted[k] === 1);
          if (STRATEGIES[name].targeted) {
            const ofLabel = Array.from(input.labels).filter((y, i) => y === 1 && input.available[i] === 1).length;
            const share = Math.min(Math.floor(alpha * batch), ofLabel);
            assert.equal(targeted.length, share, `${name} targeted share`);
            assert.equal(
              picks.length,
              share + Math.min(batch - share, availableCount - ofLabel),
              `${name} fills the batch from other labels`,
            );
            assert.ok(
              targeted.every((i) => input.labels[i] === 1),
              `${name} targets label 1`,
            );
            assert.ok(
              picks.filter((_, k) => a.targeted[k] === 0).every((i) => input.labels[i] !== 1),
              `${name} fills from other labels`,
            );
          } else {
            assert.equal(targeted.length, 0);
            assert.equal(picks.length, Math.min(batch, availableCount), `${name} fills the batch`);
          }
        }
      },
    ),
    { numRuns: 30 },
  );
});

test('mode ranks a candidate equal to the map first, and least reverses the order', async () => {
  const { input, vectors } = pool(60, 3);
  vectors.set([7, 0, 0, 0], 4 * 4); // input 4 (label 1) points along HC
  const most = await selectBatch(strategySpec('mode', { map: 'hc', order: 'most', metric: 'cosine', pick: 'top' }), input, {
    batch: 8,
    alpha: 0.5,
    rng: new Rng(1),
  });
  assert.equal(most.indices[0], 4);
  const least = await selectBatch(strategySpec('mode', { map: 'hc', order: 'least', metric: 'cosine' }), input, {
    batch: 8,
    alpha: 0.5,
    rng: new Rng(1),
  });
  assert.ok(!Array.from(least.indices.subarray(0, 4)).includes(4));
  assert.ok(least.scores[0]! >= least.scores[1]!, 'scores are in picking order');
  // contrast = sim(HM) - sim(HC): an input along HM and away from HC ranks first.
  vectors.set([-5, 5, 0, 0], 7 * 4); // the direction that maximises cos(v, HM) - cos(v, HC)
  const contrast = await selectBatch(strategySpec('mode', { map: 'contrast', order: 'most', metric: 'cosine' }), input, {
    batch: 8,
    alpha: 0.5,
    rng: new Rng(1),
  });
  assert.equal(contrast.indices[0], 7);
  // hw selects counter-examples: inputs of other labels.
  const hw = await selectBatch(strategySpec('mode', { map: 'hw', order: 'most' }), input, { batch: 8, alpha: 0.5, rng: new Rng(1) });
  assert.ok(Array.from(hw.indices).every((i) => input.labels[i] !== 1));
});

test('targeted-uncertainty picks the lowest p(label); entropy, margin and deepgini the least sure inputs', async () => {
  const { input } = pool(90, 5);
  const pOf = (i: number, c: number): number => input.probabilities![i * 3 + c]!;
  const tu = await selectBatch(strategySpec('targeted-uncertainty'), input, { batch: 20, alpha: 0.5, rng: new Rng(2) });
  const chosen = Array.from(tu.indices).filter((_, k) => tu.targeted[k] === 1);
  const rest = Array.from(input.labels)
    .map((_, i) => i)
    .filter((i) => input.labels[i] === 1 && !chosen.includes(i));
  assert.ok(Math.max(...chosen.map((i) => pOf(i, 1))) <= Math.min(...rest.map((i) => pOf(i, 1))));
  const row = (i: number): number[] => [pOf(i, 0), pOf(i, 1), pOf(i, 2)];
  const measures = {
    entropy: (i: number) => -row(i).reduce((s, p) => s + (p > 0 ? p * Math.log(p) : 0), 0),
    deepgini: (i: number) => 1 - row(i).reduce((s, p) => s + p * p, 0),
    margin: (i: number) => {
      const [a, b] = row(i).sort((x, y) => y - x);
      return -(a! - b!);
    },
  };
  for (const [name, measure] of Object.entries(measures) as [keyof typeof measures, (i: number) => number][]) {
    const s = await selectBatch(strategySpec(name), input, { batch: 10, alpha: 0, rng: new Rng(2) });
    const picked = new Set(s.indices);
    const minPicked = Math.min(...[...picked].map(measure));
    const maxOther = Math.max(
      ...Array.from({ length: 90 }, (_, i) => i)
        .filter((i) => !picked.has(i))
        .map(measure),
    );
    assert.ok(
      minPicked >= maxOther - 1e-6,
      `${name}: every pick is at least as uncertain as every other input (${minPicked} vs ${maxOther})`,
    );
  }
});

test('least-confidence picks the inputs whose top-class probability is lowest, whatever their label', async () => {
  const { input } = pool(90, 6);
  const top = (i: number): number => Math.max(...input.probabilities!.subarray(i * 3, i * 3 + 3));
  const s = await selectBatch(strategySpec('least-confidence'), input, { batch: 12, alpha: 0.5, rng: new Rng(3) });
  const picked = new Set(s.indices);
  assert.equal(picked.size, 12);
  assert.ok(
    Array.from(s.targeted).every((t) => t === 0),
    'untargeted: alpha plays no part',
  );
  const highestPicked = Math.max(...[...picked].map(top));
  const lowestOther = Math.min(
    ...Array.from({ length: 90 }, (_, i) => i)
      .filter((i) => !picked.has(i))
      .map(top),
  );
  assert.ok(highestPicked <= lowestOther, `every pick is at most as confident as every other input (${highestPicked} vs ${lowestOther})`);
  assert.deepEqual(
    Array.from(s.scores),
    [...picked].map((i) => 1 - top(i)),
    'the score is 1 - max p, highest first',
  );
});

test('sample picking draws distinct inputs, favours high scores, and is seeded', () => {
  const scores = Array.from({ length: 200 }, (_, i) => i);
  const a = rankIndices(scores, 20, 'sample', new Rng(4));
  assert.deepEqual(a, rankIndices(scores, 20, 'sample', new Rng(4)));
  assert.notDeepEqual(a, rankIndices(scores, 20, 'sample', new Rng(5)));
  assert.equal(new Set(a).size, 20);
  assert.ok(a.reduce((s, i) => s + i, 0) / 20 > 120, 'high scores are favoured');
  assert.notDeepEqual(a, rankIndices(scores, 20, 'top', new Rng(4)));
  assert.deepEqual(rankIndices(scores, 3, 'top', new Rng(4)), [199, 198, 197]);
});

test('strategy texts parse, print back the same, and unknown names or settings list the valid ones', () => {
  assert.deepEqual(parseStrategy('mode:dhm:least:euclidean'), {
    kind: 'mode',
    map: 'dhm',
    order: 'least',
    metric: 'euclidean',
    scoreSpace: 'importance',
    pick: 'top',
  });
  assert.deepEqual(
    parseStrategy('mode::most', { map: 'hm', metric: 'dot' }),
    strategySpec('mode', { map: 'hm', order: 'most', metric: 'dot' }),
    'empty settings take the defaults given',
  );
  assert.deepEqual(parseStrategy('entropy', { map: 'hm' }), { kind: 'entropy' }, 'settings a strategy does not have are ignored');
  for (const kind of STRATEGY_KINDS) {
    const spec = strategySpec(kind);
    assert.deepEqual(parseStrategy(formatStrategy(spec)), spec, `${kind}: format then parse is the identity`);
    assert.deepEqual(StrategySpecSchema.parse({ kind }), spec, `${kind}: the schema fills the same defaults`);
  }
  assert.equal(formatStrategy(strategySpec('mode')), 'mode:hc:least:cosine:importance:top');
  assert.equal(strategyTitle('mode:hc:least:cosine:importance:top'), 'mode (hc, least, cosine, importance, top)');
  for (const text of ['mode', 'entropy', 'cosine', 'control']) assert.equal(strategyTitle(text), text, `${text} is shown as it is`);
  assert.throws(() => parseStrategy('greedy'), /unknown strategy 'greedy': must be one of \[mode, random, targeted-random/);
  assert.throws(() => parseStrategy('mode:heat'), /unknown map 'heat': must be one of \[hc, hm, hw, dhc, dhm, dhw, contrast\]/);
  assert.throws(() => parseStrategy('mode:dhm:most:cosinus'), /unknown metric 'cosinus'/);
  assert.throws(
    () => parseStrategy('mode:dhm:most:cosine:importance:top:x'),
    /too many settings; write mode:MAP:ORDER:METRIC:SCORESPACE:PICK/,
  );
  assert.throws(() => parseStrategy('random:dhm'), /only mode:MAP:ORDER:METRIC:SCORESPACE:PICK, bald:PASSES, dsa:LAYER take settings/);
  // Settings beyond a list: a count of dropout passes, a layer's name.
  assert.deepEqual(parseStrategy('bald'), { kind: 'bald', passes: '20' });
  assert.deepEqual(parseStrategy('bald:50'), { kind: 'bald', passes: '50' });
  assert.throws(() => parseStrategy('bald:0'), /unknown dropout passes '0': must be one of \[20\] or a count from 1 to 9999/);
  assert.deepEqual(parseStrategy('dsa:dense_1'), { kind: 'dsa', layer: 'dense_1' });
  assert.equal(formatStrategy(strategySpec('dsa')), 'dsa:last-hidden');
  assert.deepEqual(StrategySpecSchema.parse({ kind: 'bald', passes: '5' }), { kind: 'bald', passes: '5' });
  assert.throws(() => StrategySpecSchema.parse({ kind: 'bald', passes: 'many' }), /not a dropout passes/);
  assert.throws(() => StrategySpecSchema.parse({ kind: 'entropy', map: 'hc' }), /Unrecognized key/);
});

test('confusion-margin picks the inputs torn between the buggy label and its most confused label, not other doubts', async () => {
  // 30 inputs: 0-9 split between 1 (the target) and 2 (its confusion), 10-19 split between 0 and 1, 20-29 sure of 1.
  const rows = Array.from({ length: 30 }, (_, i) => (i < 10 ? [0.02, 0.49, 0.49] : i < 20 ? [0.48, 0.48, 0.04] : [0.01, 0.98, 0.01]));
  const input: SelectionInput = {
    labels: Int32Array.from({ length: 30 }, () => 1),
    available: new Uint8Array(30).fill(1),
    probabilities: Float32Array.from(rows.flat()),
    numClasses: 3,
    target: { label: 1, kind: 'underfitting' },
    confusedWith: 2,
  };
  const picks = await selectBatch(strategySpec('confusion-margin'), input, { batch: 10, alpha: 0, rng: new Rng(1) });
  assert.deepEqual(
    Array.from(picks.indices).sort((a, b) => a - b),
    Array.from({ length: 10 }, (_, i) => i),
  );
  // Entropy cannot tell the two kinds of doubt apart: it prefers 10-19, whose doubt is as large but not about the bug.
  const byEntropy = await selectBatch(strategySpec('entropy'), input, { batch: 10, alpha: 0, rng: new Rng(1) });
  assert.ok(Array.from(byEntropy.indices).some((i) => i >= 10 && i < 20));
});

test('mode-diversity spreads the targeted share over unsure inputs instead of near-duplicates, unlike targeted-uncertainty', async () => {
  // Label-1 inputs: 0-19 near-duplicates, very unsure; 20-39 spread out and sure; 40-59 spread out and fairly unsure.
  const rng = new Rng(4);
  const n = 60;
  const d = 6;
  const vectors = new Float32Array(n * d);
  const p1 = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) vectors[i * d + j] = i < 20 ? (j === 0 ? 5 : 0) + 0.001 * rng.normal() : rng.normal() * 3;
    p1[i] = i < 20 ? 0.05 : i < 40 ? 0.98 : 0.3;
  }
  const input: SelectionInput = {
    labels: Int32Array.from({ length: n }, () => 1),
    available: new Uint8Array(n).fill(1),
    probabilities: Float32Array.from({ length: n * 2 }, (_, k) => (k % 2 === 1 ? p1[k >> 1]! : 1 - p1[k >> 1]!)),
    numClasses: 2,
    target: { label: 1, kind: 'underfitting' },
    vectors: async (indices) => {
      const out = new Float32Array(indices.length * d);
      indices.forEach((i, k) => out.set(vectors.subarray(i * d, (i + 1) * d), k * d));
      return out;
    },
  };
  const options = { batch: 10, alpha: 1, rng: new Rng(2) };
  for (let seed = 1; seed <= 5; seed++) {
    const diverse = Array.from((await selectBatch(strategySpec('mode-diversity'), input, { ...options, rng: new Rng(seed) })).indices);
    assert.equal(diverse.length, 10);
    assert.ok(diverse.filter((i) => i < 20).length <= 2, `seed ${seed}: at most two of the near-duplicates (${diverse})`);
    assert.ok(diverse.filter((i) => i >= 20 && i < 40).length <= 2, `seed ${seed}: few sure inputs (${diverse})`);
  }
  const unsure = Array.from((await selectBatch(strategySpec('targeted-uncertainty'), input, options)).indices);
  assert.equal(unsure.filter((i) => i < 20).length, 10);
});
