/**
 * The torch engine's training loop: the same seeded per-epoch shuffle as the tfjs loop
 * (runEpochs in ../checks.ts) and the same dropout seed names, so both engines
 * see the same batches in the same order. Batches run in chunks on a libuv worker thread; progress
 * events follow each chunk.
 */
import { deriveSeed } from '../../core/rng.js';
import { runEpochs } from '../checks.js';
import type { FitOptions, FitResult, TrainingData } from '../types.js';
import { type NativeBinding, type NativeNet, nativeError } from './native.js';

/** Batches per trip to the worker thread: few enough for a live progress bar, enough to amortise the trip. */
const BATCHES_PER_CHUNK = 16;

export async function torchTrainLoop(binding: NativeBinding, net: NativeNet, data: TrainingData, options: FitOptions): Promise<FitResult> {
  const stage = options.stage ?? 'fit';
  const optimizer = {
    kind: options.optimizer.kind,
    learningRate: options.optimizer.learningRate,
    momentum: options.optimizer.kind === 'sgd' ? (options.optimizer.momentum ?? 0) : 0,
  };
  let session;
  try {
    session = new binding.FitSession(net, data.x, data.y, data.count, optimizer);
  } catch (error) {
    throw nativeError(error, `${stage}: the torch engine could not start training`);
  }
  try {
    return await runEpochs(data.count, options, async ({ epoch, order, batchSize, batches, tally }) => {
      for (let first = 0; first < batches; first += BATCHES_PER_CHUNK) {
        const count = Math.min(BATCHES_PER_CHUNK, batches - first);
        const sizes = new Int32Array(count);
        const seeds = new Uint32Array(count);
        for (let k = 0; k < count; k++) {
          const b = first + k;
          sizes[k] = Math.min(batchSize, data.count - b * batchSize);
          seeds[k] = deriveSeed(options.seed, `dropout-${epoch}-${b}`);
        }
        const rows = order.subarray(first * batchSize, Math.min(data.count, (first + count) * batchSize));
        let results: Float64Array;
        try {
          results = await session.run(rows, sizes, seeds);
        } catch (error) {
          throw nativeError(error, `${stage}: training failed at epoch ${epoch + 1}`);
        }
        for (let k = 0; k < results.length / 2; k++) tally.add(first + k, results[2 * k]!, results[2 * k + 1]!, sizes[k]!);
      }
    });
  } finally {
    session.dispose();
  }
}
