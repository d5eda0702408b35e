/**
 * The training loop shared by whole models and feature-model heads: the seeded per-epoch shuffle of
 * runEpochs (tfjs' fit shuffles with Math.random), one trainOnBatch per batch, progress events per batch.
 */
import { deriveSeed } from '../../core/rng.js';
import { effectiveBatchSize, runEpochs } from '../checks.js';
import type { FitOptions, FitResult, OptimizerSpec, TrainingData } from '../types.js';
import { tf } from './setup.js';

function makeOptimizer(spec: OptimizerSpec): tf.Optimizer {
  return spec.kind === 'adam' ? tf.train.adam(spec.learningRate) : tf.train.momentum(spec.learningRate, spec.momentum ?? 0);
}

export async function trainLoop(
  model: tf.LayersModel,
  data: TrainingData,
  rowSize: number,
  inputShape: readonly number[],
  numClasses: number,
  options: FitOptions,
): Promise<FitResult> {
  const optimizer = makeOptimizer(options.optimizer);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const dropouts = model.layers.filter((l) => l.getClassName() === 'Dropout') as unknown as { seed?: number }[];
  const bufferRows = effectiveBatchSize(data.count, options.batchSize);
  const xBuffer = new Float32Array(bufferRows * rowSize);
  const yBuffer = new Int32Array(bufferRows);
  try {
    return await runEpochs(data.count, options, async ({ epoch, order, batchSize, batches, tally }) => {
      for (let b = 0; b < batches; b++) {
        const start = b * batchSize;
        const size = Math.min(batchSize, data.count - start);
        for (let i = 0; i < size; i++) {
          const row = order[start + i]!;
          xBuffer.set(data.x.subarray(row * rowSize, (row + 1) * rowSize), i * rowSize);
          yBuffer[i] = data.y[row]!;
        }
        // A fresh dropout mask per batch, still seeded: tfjs reuses a fixed seed's mask otherwise.
        for (const d of dropouts) d.seed = deriveSeed(options.seed, `dropout-${epoch}-${b}`);
        const [xs, ys] = tf.tidy(() => {
          const xs = tf.tensor(xBuffer.subarray(0, size * rowSize), [size, ...inputShape]);
          const ys = tf.oneHot(tf.tensor1d(yBuffer.subarray(0, size), 'int32'), numClasses);
          return [xs, ys];
        });
        let result: number | number[];
        try {
          result = await model.trainOnBatch(xs, ys);
        } finally {
          xs.dispose();
          ys.dispose();
        }
        const [loss, accuracy] = Array.isArray(result) ? [result[0] ?? NaN, result[1] ?? NaN] : [result, NaN];
        tally.add(b, loss, accuracy * size, size);
      }
    });
  } finally {
    optimizer.dispose();
  }
}
