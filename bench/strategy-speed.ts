/**
 * Micro-benchmark (not a test) of the selection strategies: the preparation (prepareSelection: pool
 * features, the training reference, dropout passes) and the selection of one batch of 200 from a pool
 * of 25,000 synthetic 28x28 inputs, with an MLP (256, dropout 0.3, 128) trained for one epoch on
 * 10,000 inputs. The pool's probabilities are computed once and shared, as the repair loop does.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/strategy-speed.js [--engine torch] [--strategies badge,coreset,bald,dsa]
 *
 * Prints, per strategy, the wall seconds of each part and the CPU seconds of the process (all its
 * threads; on a shared machine the wall time depends on the other work).
 */
import { parseArgs } from 'node:util';
import {
  createEngine,
  formatStrategy,
  loadDataset,
  parseStrategy,
  prepareSelection,
  Rng,
  selectBatch,
  splitDataset,
  strategyNeeds,
  STRATEGY_KINDS,
} from '../src/index.js';

const { values } = parseArgs({
  options: { engine: { type: 'string', default: 'torch' }, strategies: { type: 'string' } },
});
const engine = await createEngine(values.engine);
const dataset = await loadDataset('synthetic:classes=10,size=28,n=40000,test=1000,noise=0.8,seed=1');
const splits = splitDataset(dataset, { trainSize: 10000, validationSize: 2000, poolSize: 25000, seed: 1 });
const model = engine.buildModel(
  {
    inputShape: dataset.inputShape,
    numClasses: 10,
    layers: [
      { type: 'flatten' },
      { type: 'dense', units: 256, activation: 'relu' },
      { type: 'dropout', rate: 0.3 },
      { type: 'dense', units: 128, activation: 'relu' },
    ],
  },
  1,
);
await model.fit(splits.train, { epochs: 1, batchSize: 64, optimizer: { kind: 'adam', learningRate: 0.001 }, seed: 1 });
const pool = splits.pool;
const seconds = (ms: number): string => (ms / 1000).toFixed(2);
console.log(
  `engine ${engine.info.name} (${engine.info.threads} threads), pool ${pool.count} x 28x28, train ${splits.train.count}, batch 200`,
);
let started = performance.now();
const probabilities = await model.predict(pool.x, pool.count);
console.log(`pool probabilities (shared): ${seconds(performance.now() - started)} s`);
const texts = values.strategies?.split(',') ?? STRATEGY_KINDS.filter((k) => !k.startsWith('targeted') && k !== 'mode');
for (const text of texts) {
  const spec = parseStrategy(text);
  const cpu = process.cpuUsage();
  started = performance.now();
  const pooled = { x: pool.x, count: pool.count, labels: pool.y };
  const input = await prepareSelection(model, pooled, strategyNeeds(spec), { seed: 1, train: splits.train, probabilities }, spec.kind);
  const prepared = performance.now();
  const selection = await selectBatch(spec, input, { batch: 200, alpha: 0, rng: new Rng(1) });
  const done = performance.now();
  const used = process.cpuUsage(cpu);
  console.log(
    `${formatStrategy(spec).padEnd(18)} prepare ${seconds(prepared - started)} s, select ${seconds(done - prepared)} s, ` +
      `total ${seconds(done - started)} s wall, ${((used.user + used.system) / 1e6).toFixed(2)} s CPU (${selection.indices.length} picks)`,
  );
}
model.dispose();
