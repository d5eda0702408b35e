/**
 * The compute-engine interface. Everything above src/engine/ talks to this, never to tfjs, so a
 * faster native engine can slot in without touching callers.
 */
import type { InputShape } from '../core/data-types.js';
import type { ProgressCallback } from '../core/progress.js';

export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'linear', 'elu', 'softmax'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** One layer of an architecture spec. Padding and strides follow Keras. */
export type LayerSpec =
  | { type: 'dense'; units: number; activation?: Activation }
  | { type: 'conv2d'; filters: number; kernelSize: number; strides?: number; padding?: 'valid' | 'same'; activation?: Activation }
  | { type: 'maxPool2d'; poolSize: number; strides?: number; padding?: 'valid' | 'same' }
  | { type: 'averagePooling2d'; poolSize: number; strides?: number; padding?: 'valid' | 'same' }
  | { type: 'flatten' }
  | { type: 'dropout'; rate: number }
  | { type: 'batchNormalization' }
  | { type: 'activation'; activation: Activation };

export type LayerType = LayerSpec['type'];

/**
 * A classifier: the hidden layers in order; the engine appends the output layer
 * (dense numClasses, softmax).
 */
export interface ArchitectureSpec {
  readonly inputShape: InputShape;
  readonly numClasses: number;
  readonly layers: readonly LayerSpec[];
}

/** What callers may know of a built or loaded model's layers. */
export interface LayerInfo {
  readonly index: number;
  readonly name: string;
  readonly type: LayerType | 'other';
  /** Output shape without the batch axis. */
  readonly outputShape: readonly number[];
  readonly hasWeights: boolean;
  readonly activation: Activation | null;
}

export type OptimizerSpec = { kind: 'adam'; learningRate: number } | { kind: 'sgd'; learningRate: number; momentum?: number };

export interface TrainingData {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly count: number;
}

export interface FitOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: OptimizerSpec;
  /** Seeds the per-epoch shuffle (and dropout). */
  readonly seed: number;
  readonly onProgress?: ProgressCallback;
  /** A name for progress events. */
  readonly stage?: string;
}

export interface FitResult {
  /** Mean training loss per epoch. */
  readonly loss: number[];
  /** Training accuracy per epoch (on the shuffled batches, as they trained). */
  readonly accuracy: number[];
  readonly seconds: number;
}

/** Flattened outputs of one layer for a set of inputs: count rows of `size` values. */
export interface Activations {
  readonly values: Float32Array;
  readonly size: number;
}

export interface Model {
  readonly inputShape: InputShape;
  readonly numClasses: number;
  readonly layers: readonly LayerInfo[];
  /** Trains all weights. */
  fit(data: TrainingData, options: FitOptions): Promise<FitResult>;
  /** Class probabilities, count * numClasses, computed in batches. */
  predict(x: Float32Array, count: number, batchSize?: number): Promise<Float32Array>;
  /**
   * One Monte Carlo dropout pass (Gal and Ghahramani 2016): class probabilities as `predict` gives them
   * but with the dropout layers on, their masks drawn from `seed` (the same seed, the same masks);
   * batch normalisation stays in inference mode and no weight or statistic changes. A model without
   * dropout layers gives `predict`'s probabilities.
   */
  predictWithDropout(x: Float32Array, count: number, seed: number, batchSize?: number): Promise<Float32Array>;
  /**
   * Flattened outputs of layer `layerIndex` (-1: the raw input), count * size, computed in batches.
   * Returns the size of one row too.
   */
  activations(layerIndex: number, x: Float32Array, count: number, batchSize?: number): Promise<Activations>;
  /**
   * Outputs of several layers from one pass over the data (each as `activations` gives it). `into`,
   * by position in `layerIndices`: arrays of exactly count x size values to write a layer's outputs
   * into, and return, instead of new ones (null, and the raw input's entry, take a new one): a caller
   * that computes wide features again and again reuses its memory instead of faulting in new pages.
   */
  layerOutputs(
    layerIndices: readonly number[],
    x: Float32Array,
    count: number,
    batchSize?: number,
    into?: readonly (Float32Array | null)[],
  ): Promise<Activations[]>;
  /** A new model with the same architecture and a copy of the weights. */
  clone(): Model;
  /** Writes model.json + weights.bin (tfjs Layers format) into dir, which must exist. */
  save(dir: string): Promise<void>;
  /** Number of trainable parameters. */
  parameterCount(): number;
  dispose(): void;
}

/** A dense softmax head trained on cached features: logits = features · weights + bias. */
export interface SoftmaxHead {
  readonly inputSize: number;
  readonly numClasses: number;
  /** inputSize * numClasses, row-major (feature i, class c at i * numClasses + c). */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  predict(features: Float32Array, count: number): Promise<Float32Array>;
}

export interface HeadOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly seed: number;
}

export interface EngineInfo {
  readonly name: string;
  readonly backend: string;
  readonly versions: Record<string, string>;
  readonly threads: number;
}

export interface Engine {
  readonly info: EngineInfo;
  buildModel(spec: ArchitectureSpec, seed: number): Model;
  loadModel(dir: string): Promise<Model>;
  /** Trains a new softmax head on cached features (the head of a feature model). */
  trainHead(features: TrainingData & { size: number }, numClasses: number, options: HeadOptions): Promise<SoftmaxHead>;
  /** Live tensors held by the engine (for leak tests). */
  liveTensors(): number;
}
