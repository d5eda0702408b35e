/**
 * Checks every engine makes before its compute sees the data, so bad input gets the same one-line
 * error whichever engine runs, and the training loops' shared bookkeeping (per-epoch loss and
 * accuracy, divergence).
 */
import type { InputShape } from '../core/data-types.js';
import { ModeError, shapeError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { FitOptions, FitResult, TrainingData } from './types.js';

/** Index of the first NaN or infinite value, or -1. */
function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return i;
  return -1;
}

/** `x` must hold `count` inputs of `inputShape`. */
export function checkInput(x: Float32Array, count: number, inputShape: InputShape): void {
  const rowSize = inputShape[0] * inputShape[1] * inputShape[2];
  if (!Number.isInteger(count) || count < 0 || x.length !== count * rowSize) {
    throw shapeError(
      `input holds ${x.length} values but ${count} inputs of shape [${inputShape.join(', ')}] need ${count * rowSize}; ` +
        `the dataset does not fit this model`,
    );
  }
}

/** Training data and options a model can train on: finite inputs of its shape, a label in range for each, a positive learning rate. */
export function checkTraining(data: TrainingData, options: FitOptions, inputShape: InputShape, numClasses: number): void {
  checkInput(data.x, data.count, inputShape);
  const rowSize = inputShape[0] * inputShape[1] * inputShape[2];
  const bad = firstNonFinite(data.x);
  if (bad >= 0)
    throw shapeError(
      `training input ${Math.floor(bad / rowSize)} holds ${data.x[bad]} at value ${bad % rowSize}; ` +
        `inputs must be finite numbers (clean or drop that input)`,
    );
  if (data.y.length < data.count) throw shapeError(`${data.y.length} labels for ${data.count} training inputs; each input needs a label`);
  for (let i = 0; i < data.count; i++) {
    const label = data.y[i]!;
    if (!(label >= 0 && label < numClasses)) throw shapeError(`label ${label} at index ${i} is outside the model's ${numClasses} classes`);
  }
  if (!(options.optimizer.learningRate > 0) || !Number.isFinite(options.optimizer.learningRate)) {
    throw new ModeError('usage', `learning rate must be a positive number, got ${options.optimizer.learningRate}`);
  }
}

/** Layer indices for activations: each an existing layer or -1 (the raw input). */
export function checkLayerIndices(indices: readonly number[], layerCount: number): void {
  for (const index of indices) {
    if (index !== -1 && !(Number.isInteger(index) && index >= 0 && index < layerCount)) {
      throw new ModeError('usage', `layer index ${index} is out of range: the model has layers 0..${layerCount - 1} (-1 = input)`);
    }
  }
}

/**
 * The arrays layerOutputs writes each of `layers` (distinct indices, none -1, with `sizes` values a row)
 * into: the caller's, from `into` by the position of the layer in `layerIndices`, which must hold
 * exactly count x size values; else new ones.
 */
export function outputArrays(
  layerIndices: readonly number[],
  layers: readonly number[],
  sizes: readonly number[],
  count: number,
  into: readonly (Float32Array | null)[] | undefined,
): Float32Array[] {
  return layers.map((layer, k) => {
    const given = into?.[layerIndices.indexOf(layer)] ?? null;
    const length = count * sizes[k]!;
    if (given === null) return new Float32Array(length);
    if (given.length !== length)
      throw new ModeError(
        'internal',
        `layerOutputs: the array given for layer ${layer} holds ${given.length} values, its outputs ${length}`,
      );
    return given;
  });
}

/** Loss and accuracy of one epoch, batch by batch; fails on a non-finite loss. */
class EpochTally {
  private lossSum = 0;
  private correctSum = 0;

  constructor(
    private readonly stage: string,
    private readonly epoch: number,
    private readonly options: FitOptions,
    private readonly batches: number,
  ) {}

  /** A finished batch: its mean loss, how many of its `size` inputs it got right. */
  add(batch: number, loss: number, correct: number, size: number): void {
    if (!Number.isFinite(loss)) {
      throw new ModeError(
        'model',
        `${this.stage}: training diverged (loss ${loss}) at epoch ${this.epoch + 1}, batch ${batch + 1}; ` +
          `lower the learning rate or check the data for NaN`,
      );
    }
    this.lossSum += loss * size;
    this.correctSum += correct;
    this.options.onProgress?.({ type: 'batch', stage: this.stage, epoch: this.epoch, batch, batches: this.batches, loss });
  }

  /** Ends the epoch over `count` inputs: reports it and returns its mean loss and accuracy. */
  end(count: number): { loss: number; accuracy: number } {
    const loss = this.lossSum / count;
    const accuracy = this.correctSum / count;
    this.options.onProgress?.({ type: 'epoch-end', stage: this.stage, epoch: this.epoch, epochs: this.options.epochs, loss, accuracy });
    return { loss, accuracy };
  }
}

/** One epoch's work handed to an engine: its seeded input order and the tally its batches report to. */
export interface EpochPlan {
  readonly epoch: number;
  /** Row order of this epoch: Rng(seed).child(`epoch-${epoch}`).permutation(count), the same on every engine. */
  readonly order: Int32Array;
  readonly batchSize: number;
  readonly batches: number;
  readonly tally: EpochTally;
}

/** The batch size training uses: the one asked for, but at least 1 and at most the number of inputs. */
export function effectiveBatchSize(count: number, requested: number): number {
  return Math.max(1, Math.min(requested, count));
}

/**
 * The epoch loop both engines train with: the seeded per-epoch shuffle, progress events, the per-epoch
 * loss and accuracy history. `runBatches` trains one epoch's batches in `plan.order`.
 */
export async function runEpochs(count: number, options: FitOptions, runBatches: (plan: EpochPlan) => Promise<void>): Promise<FitResult> {
  const started = performance.now();
  const rng = new Rng(options.seed);
  const stage = options.stage ?? 'fit';
  const batchSize = effectiveBatchSize(count, options.batchSize);
  const batches = Math.ceil(count / batchSize);
  const loss: number[] = [];
  const accuracy: number[] = [];
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    options.onProgress?.({ type: 'epoch-start', stage, epoch, epochs: options.epochs, batches });
    const tally = new EpochTally(stage, epoch, options, batches);
    await runBatches({ epoch, order: rng.child(`epoch-${epoch}`).permutation(count), batchSize, batches, tally });
    const end = tally.end(count);
    loss.push(end.loss);
    accuracy.push(end.accuracy);
  }
  return { loss, accuracy, seconds: (performance.now() - started) / 1000 };
}
