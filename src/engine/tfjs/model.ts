/** A classifier on tfjs: the Model interface over a tf.LayersModel. */
import type { InputShape } from '../../core/data-types.js';
import { ModeError } from '../../core/errors.js';
import { checkInput, checkLayerIndices, checkTraining, outputArrays } from '../checks.js';
import type { Activations, FitOptions, FitResult, LayerInfo, Model, TrainingData } from '../types.js';
import { fileSaveHandler } from './io.js';
import { describeLayers } from './layers.js';
import { tf } from './setup.js';
import { trainLoop } from './train-loop.js';

const DEFAULT_INFERENCE_BATCH = 256;

export class TfjsModel implements Model {
  readonly inputShape: InputShape;
  readonly numClasses: number;
  readonly layers: readonly LayerInfo[];
  private readonly rowSize: number;
  private readonly probes = new Map<string, tf.LayersModel>();
  private disposed = false;

  constructor(readonly tfModel: tf.LayersModel) {
    const input = tfModel.inputs[0]?.shape;
    const output = tfModel.outputs[0]?.shape;
    if (tfModel.inputs.length !== 1 || tfModel.outputs.length !== 1 || input === undefined || output === undefined) {
      throw new ModeError('model', 'only models with one input and one output are supported');
    }
    const dims = input.slice(1).map((d) => d ?? -1);
    if (dims.length === 1) this.inputShape = [1, dims[0]!, 1];
    else if (dims.length === 2) this.inputShape = [dims[0]!, dims[1]!, 1];
    else if (dims.length === 3) this.inputShape = [dims[0]!, dims[1]!, dims[2]!];
    else throw new ModeError('model', `model input shape [${dims.join(', ')}] is not an image (expected [h, w, c])`);
    if (this.inputShape.some((d) => d <= 0)) throw new ModeError('model', `model input shape [${dims.join(', ')}] must be fully defined`);
    this.rowSize = this.inputShape[0] * this.inputShape[1] * this.inputShape[2];
    this.numClasses = output[output.length - 1] ?? 0;
    if (output.length !== 2 || this.numClasses < 2)
      throw new ModeError('model', `model output shape [${output.join(', ')}] is not a class-probability vector`);
    this.layers = describeLayers(tfModel);
  }

  /** The input shape as the tfjs model wants it (without batch). */
  private get tfInputShape(): number[] {
    return this.tfModel.inputs[0]!.shape.slice(1).map((d) => d ?? -1);
  }

  private checkInput(x: Float32Array, count: number): void {
    this.assertLive();
    checkInput(x, count, this.inputShape);
  }

  private assertLive(): void {
    if (this.disposed) throw new ModeError('internal', 'model used after dispose()');
  }

  async fit(data: TrainingData, options: FitOptions): Promise<FitResult> {
    this.assertLive();
    checkTraining(data, options, this.inputShape, this.numClasses);
    return trainLoop(this.tfModel, data, this.rowSize, this.tfInputShape, this.numClasses, options);
  }

  async predict(x: Float32Array, count: number, batchSize = DEFAULT_INFERENCE_BATCH): Promise<Float32Array> {
    this.checkInput(x, count);
    return this.runBatched(this.tfModel, x, count, this.numClasses, batchSize);
  }

  /**
   * Runs the layers one after another (the model must be a chain), each in inference mode but for
   * dropout, applied with tf.dropout and a seed per pass, batch and layer. Not model.apply(x, {training:
   * true}): that would put batch normalisation in training mode too (batch statistics instead of the
   * moving ones).
   */
  async predictWithDropout(x: Float32Array, count: number, seed: number, batchSize = DEFAULT_INFERENCE_BATCH): Promise<Float32Array> {
    this.checkInput(x, count);
    const layers = this.chain();
    const out = new Float32Array(count * this.numClasses);
    const shape = this.tfInputShape;
    for (let start = 0; start < count; start += batchSize) {
      const size = Math.min(batchSize, count - start);
      const result = tf.tidy(() => {
        let y: tf.Tensor = tf.tensor(x.subarray(start * this.rowSize, (start + size) * this.rowSize), [size, ...shape]);
        layers.forEach((layer, l) => {
          if (layer.getClassName() === 'Dropout') {
            const rate = (layer.getConfig() as { rate: number }).rate;
            if (rate > 0) y = tf.dropout(y, rate, undefined, `${seed >>> 0}:${start}:${l}`);
          } else y = layer.apply(y, { training: false }) as tf.Tensor;
        });
        return y.reshape([size, this.numClasses]);
      });
      out.set(await result.data<'float32'>(), start * this.numClasses);
      result.dispose();
    }
    return out;
  }

  /** The model's layers after its input, when each takes the output of the one before (else a clear error). */
  private chain(): tf.layers.Layer[] {
    const layers = this.tfModel.layers.filter((l) => l.getClassName() !== 'InputLayer');
    layers.forEach((layer, i) => {
      const inbound = layer.inboundNodes.flatMap((node) => node.inboundLayers);
      const previous = i === 0 ? [] : [layers[i - 1]!];
      const fromInput = i === 0 && inbound.every((l) => l.getClassName() === 'InputLayer');
      if (!fromInput && !(inbound.length === 1 && inbound[0] === previous[0])) {
        throw new ModeError(
          'model',
          `dropout passes on the tfjs engine need a chain of layers; layer '${layer.name}' is not fed by the one before`,
        );
      }
    });
    return layers;
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
    const layers = [...new Set(layerIndices.filter((i) => i !== -1))];
    const sizes = layers.map((i) => this.layers[i]!.outputShape.reduce((a, b) => a * b, 1));
    const outputs = outputArrays(layerIndices, layers, sizes, count, into);
    if (layers.length > 0) {
      const probe = this.probe(layers);
      const shape = this.tfInputShape;
      for (let start = 0; start < count; start += batchSize) {
        const size = Math.min(batchSize, count - start);
        const results = tf.tidy(() => {
          const xs = tf.tensor(x.subarray(start * this.rowSize, (start + size) * this.rowSize), [size, ...shape]);
          const ys = probe.predict(xs);
          return (Array.isArray(ys) ? ys : [ys]).map((y, k) => y.reshape([size, sizes[k]!]));
        });
        for (let k = 0; k < results.length; k++) {
          outputs[k]!.set(await results[k]!.data<'float32'>(), start * sizes[k]!);
          results[k]!.dispose();
        }
      }
    }
    return layerIndices.map((index) => {
      if (index === -1) return { values: x.slice(), size: this.rowSize };
      const k = layers.indexOf(index);
      return { values: outputs[k]!, size: sizes[k]! };
    });
  }

  /** A model from the input to the outputs of these layers, cached per layer set. */
  private probe(layerIndices: readonly number[]): tf.LayersModel {
    const key = layerIndices.join(',');
    let probe = this.probes.get(key);
    if (probe === undefined) {
      const outputs = layerIndices.map((i) => this.tfModel.getLayer(this.layers[i]!.name).output as tf.SymbolicTensor);
      probe = tf.model({ inputs: this.tfModel.inputs, outputs: outputs.length === 1 ? outputs[0]! : outputs });
      this.probes.set(key, probe);
    }
    return probe;
  }

  private async runBatched(
    model: tf.LayersModel,
    x: Float32Array,
    count: number,
    rowOut: number,
    batchSize: number,
  ): Promise<Float32Array> {
    const out = new Float32Array(count * rowOut);
    const shape = this.tfInputShape;
    for (let start = 0; start < count; start += batchSize) {
      const size = Math.min(batchSize, count - start);
      const result = tf.tidy(() => {
        const xs = tf.tensor(x.subarray(start * this.rowSize, (start + size) * this.rowSize), [size, ...shape]);
        const y = model.predict(xs) as tf.Tensor;
        return y.reshape([size, rowOut]);
      });
      out.set(await result.data<'float32'>(), start * rowOut);
      result.dispose();
    }
    return out;
  }

  clone(): Model {
    this.assertLive();
    const ctor = this.tfModel.constructor as typeof tf.LayersModel;
    const twin = ctor.fromConfig(ctor, this.tfModel.getConfig()) as tf.LayersModel;
    const weights = this.tfModel.getWeights();
    twin.setWeights(weights);
    return new TfjsModel(twin);
  }

  async save(dir: string): Promise<void> {
    this.assertLive();
    await this.tfModel.save(fileSaveHandler(dir));
  }

  parameterCount(): number {
    return this.tfModel.countParams();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.probes.clear();
    this.tfModel.dispose();
  }
}
