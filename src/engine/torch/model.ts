/** A classifier on libtorch: the Model interface over a native network built from Keras layers. */
import type { InputShape } from '../../core/data-types.js';
import { ModeError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { type KerasLayer, type KerasModel, TFJS_LAYERS_VERSION, layerInfos, manifestOrder, topologyOf } from '../keras/topology.js';
import { writeModelFolder } from '../keras/model-folder.js';
import { checkInput, checkLayerIndices, checkTraining, outputArrays } from '../checks.js';
import type { Activations, FitOptions, FitResult, LayerInfo, Model, TrainingData } from '../types.js';
import { type NativeBinding, type NativeLayerSpec, type NativeNet, nativeError } from './native.js';
import { torchTrainLoop } from './train-loop.js';

const DEFAULT_INFERENCE_BATCH = 256;

function nativeSpecOf(layer: KerasLayer): NativeLayerSpec {
  return {
    kind: layer.type,
    activation: layer.activation ?? 'linear',
    units: layer.units,
    kernel: layer.kernel,
    stride: layer.stride,
    padding: layer.padding,
    rate: layer.rate,
    useBias: layer.useBias,
    momentum: layer.momentum,
    epsilon: layer.epsilon,
    inShape: layer.inShape,
  };
}

/**
 * Initial weights as the tfjs engine chooses them, in distribution: glorot-uniform kernels seeded per
 * layer (deriveSeed(seed, layer name)), zero biases, batch norm gamma 1, beta 0, moving mean 0,
 * moving variance 1.
 */
export function initialWeights(layer: KerasLayer, seed: number): Float32Array[] {
  return layer.weights.map((w) => {
    const size = w.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (w.name === 'kernel') {
      const receptive = w.shape.slice(0, -2).reduce((a, b) => a * b, 1);
      const fanIn = w.shape[w.shape.length - 2]! * receptive;
      const fanOut = w.shape[w.shape.length - 1]! * receptive;
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      const rng = new Rng(seed);
      for (let i = 0; i < size; i++) values[i] = (2 * rng.next() - 1) * limit;
    } else if (w.name === 'gamma' || w.name === 'moving_variance') {
      values.fill(1);
    }
    return values;
  });
}

export function createNet(binding: NativeBinding, model: KerasModel, weights: Float32Array[]): NativeNet {
  let net: NativeNet;
  try {
    net = new binding.Net(model.layers.map(nativeSpecOf), model.inputShape);
  } catch (error) {
    throw nativeError(error, 'the architecture does not build on the torch engine');
  }
  try {
    net.setWeights(weights);
  } catch (error) {
    net.dispose();
    throw nativeError(error, 'the torch engine refused the weights');
  }
  return net;
}

export class TorchModel implements Model {
  readonly inputShape: InputShape;
  readonly numClasses: number;
  readonly layers: readonly LayerInfo[];
  private readonly rowSize: number;
  private disposed = false;

  constructor(
    private readonly binding: NativeBinding,
    private readonly net: NativeNet,
    readonly keras: KerasModel,
  ) {
    const dims = keras.inputShape;
    if (dims.length === 1) this.inputShape = [1, dims[0]!, 1];
    else if (dims.length === 2) this.inputShape = [dims[0]!, dims[1]!, 1];
    else if (dims.length === 3) this.inputShape = [dims[0]!, dims[1]!, dims[2]!];
    else throw new ModeError('model', `model input shape [${dims.join(', ')}] is not an image (expected [h, w, c])`);
    this.rowSize = this.inputShape[0] * this.inputShape[1] * this.inputShape[2];
    const output = keras.layers[keras.layers.length - 1]!.outShape;
    this.numClasses = output[output.length - 1] ?? 0;
    if (output.length !== 1 || this.numClasses < 2) {
      net.dispose();
      throw new ModeError('model', `model output shape [null, ${output.join(', ')}] is not a class-probability vector`);
    }
    this.layers = layerInfos(keras);
  }

  private assertLive(): void {
    if (this.disposed) throw new ModeError('internal', 'model used after dispose()');
  }

  private checkInput(x: Float32Array, count: number): void {
    this.assertLive();
    checkInput(x, count, this.inputShape);
  }

  async fit(data: TrainingData, options: FitOptions): Promise<FitResult> {
    this.assertLive();
    checkTraining(data, options, this.inputShape, this.numClasses);
    return torchTrainLoop(this.binding, this.net, data, options);
  }

  async predict(x: Float32Array, count: number, batchSize = DEFAULT_INFERENCE_BATCH): Promise<Float32Array> {
    return (await this.layerOutputs([this.layers.length - 1], x, count, batchSize))[0]!.values;
  }

  async predictWithDropout(x: Float32Array, count: number, seed: number, batchSize = DEFAULT_INFERENCE_BATCH): Promise<Float32Array> {
    this.checkInput(x, count);
    if (!(Number.isInteger(batchSize) && batchSize > 0))
      throw new ModeError('usage', `batch size must be a positive integer, got ${batchSize}`);
    const out = new Float32Array(count * this.numClasses);
    if (count === 0) return out;
    try {
      await this.net.forward(x, count, batchSize, Int32Array.of(this.layers.length - 1), [out], seed >>> 0);
    } catch (error) {
      throw nativeError(error, 'torch engine: the forward pass with dropout failed');
    }
    return out;
  }

  async activations(layerIndex: number, x: Float32Array, count: number, batchSize = DEFAULT_INFERENCE_BATCH): Promise<Activations> {
    return (await this.layerOutputs([layerIndex], x, count, batchSize))[0]!;
  }

  async layerOutputs(
    layerIndices: readonly number[],
    x: Float32Array,
    count: number,
    batchSize = DEFAULT_INFERENCE_BATCH,
    into?: readonly (Float32Array | null)[],
  ): Promise<Activations[]> {
    this.checkInput(x, count);
    checkLayerIndices(layerIndices, this.layers.length);
    if (!(Number.isInteger(batchSize) && batchSize > 0))
      throw new ModeError('usage', `batch size must be a positive integer, got ${batchSize}`);
    const layers = [...new Set(layerIndices.filter((i) => i !== -1))];
    const sizes = layers.map((i) => this.layers[i]!.outputShape.reduce((a, b) => a * b, 1));
    const outputs = outputArrays(layerIndices, layers, sizes, count, into);
    if (layers.length > 0 && count > 0) {
      try {
        await this.net.forward(x, count, batchSize, Int32Array.from(layers), outputs);
      } catch (error) {
        throw nativeError(error, 'torch engine: the forward pass failed');
      }
    }
    return layerIndices.map((index) => {
      if (index === -1) return { values: x.slice(), size: this.rowSize };
      const k = layers.indexOf(index);
      return { values: outputs[k]!, size: sizes[k]! };
    });
  }

  clone(): Model {
    this.assertLive();
    let twin: NativeNet;
    try {
      twin = this.net.clone();
    } catch (error) {
      throw nativeError(error, 'torch engine: clone failed');
    }
    return new TorchModel(this.binding, twin, this.keras);
  }

  /** Weights in the tfjs layout, in layer order. */
  weights(): Float32Array[] {
    this.assertLive();
    try {
      return this.net.getWeights();
    } catch (error) {
      throw nativeError(error, 'torch engine: reading weights failed');
    }
  }

  async save(dir: string): Promise<void> {
    const values = this.weights();
    const starts: number[] = [];
    let k = 0;
    for (const layer of this.keras.layers) {
      starts.push(k);
      k += layer.weights.length;
    }
    const entries = manifestOrder(this.keras).map((e) => ({ name: e.name, shape: e.shape, values: values[starts[e.layer]! + e.weight]! }));
    await writeModelFolder(dir, topologyOf(this.keras), entries, `TensorFlow.js tfjs-layers v${TFJS_LAYERS_VERSION}`);
  }

  parameterCount(): number {
    return this.keras.layers.reduce((sum, l) => sum + l.weights.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0), 0);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.net.dispose();
  }
}
