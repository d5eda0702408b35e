/**
 * The tfjs Layers (Keras) model topology in plain TypeScript, without tfjs: architecture spec ->
 * layers with shapes, weights and the exact model.json configs tfjs-layers 4.22 writes, and a
 * model.json topology -> the same layers. Engines other than tfjs build, save and load through this,
 * so a model written by one engine loads on the other.
 */
import { ModeError } from '../../core/errors.js';
import { deriveSeed } from '../../core/rng.js';
import { ACTIVATIONS, type Activation, type ArchitectureSpec, type LayerInfo, type LayerSpec, type LayerType } from '../types.js';

/** What tfjs-layers writes as keras_version and generatedBy (the version this project pins). */
export const TFJS_LAYERS_VERSION = '4.22.0';

interface WeightInfo {
  /** Keras weight name without the layer prefix: kernel, bias, gamma, beta, moving_mean, moving_variance. */
  readonly name: string;
  /** Shape in the tfjs layout (dense [in, out], conv [kh, kw, in, out]). */
  readonly shape: readonly number[];
  readonly trainable: boolean;
}

/** One layer, normalised: what an engine needs to build it, and its Keras config for model.json. */
export interface KerasLayer {
  readonly name: string;
  readonly className: string;
  readonly type: LayerType;
  /** The layer's activation (dense, conv2d, activation layers), else null. */
  readonly activation: Activation | null;
  readonly units: number;
  /** Conv kernel or pool size (square). */
  readonly kernel: number;
  readonly stride: number;
  readonly padding: 'same' | 'valid';
  readonly rate: number;
  readonly useBias: boolean;
  /** Batch norm: Keras momentum (weight of the old moving value) and epsilon. */
  readonly momentum: number;
  readonly epsilon: number;
  /** Input and output shapes without the batch axis, channels last. */
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  /** Weights in the order an engine holds them (batch norm: gamma, beta, moving_mean, moving_variance). */
  readonly weights: readonly WeightInfo[];
  /** The layer's Keras config, as written to model.json (without batch_input_shape). */
  readonly config: Record<string, unknown>;
}

export interface KerasModel {
  readonly name: string;
  /** The model's own input shape without batch (what tfjs calls batch_input_shape minus null). */
  readonly inputShape: readonly number[];
  readonly layers: readonly KerasLayer[];
}

/** The Keras class name of each layer type. */
export const CLASS_NAMES: Record<LayerType, string> = {
  dense: 'Dense',
  conv2d: 'Conv2D',
  maxPool2d: 'MaxPooling2D',
  averagePooling2d: 'AveragePooling2D',
  flatten: 'Flatten',
  dropout: 'Dropout',
  batchNormalization: 'BatchNormalization',
  activation: 'Activation',
};

const TYPE_OF_CLASS: Record<string, LayerType> = {
  ...Object.fromEntries(Object.entries(CLASS_NAMES).map(([type, cls]) => [cls, type as LayerType])),
  MaxPool2D: 'maxPool2d',
  AvgPool2D: 'averagePooling2d',
  AveragePool2D: 'averagePooling2d',
};

/** Keras' defaults for batch normalization (tfjs-layers normalization.ts). */
const BATCH_NORM_MOMENTUM = 0.99;
const BATCH_NORM_EPSILON = 1e-3;

const prod = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Keras output size of a conv or pooling window along one axis. */
function windowOutput(size: number, kernel: number, stride: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? Math.ceil(size / stride) : Math.ceil((size - kernel + 1) / stride);
}

function outputShape(
  type: LayerType,
  inShape: readonly number[],
  p: { units: number; kernel: number; stride: number; padding: 'same' | 'valid' },
): number[] {
  switch (type) {
    case 'dense':
      return [...inShape.slice(0, -1), p.units];
    case 'conv2d':
    case 'maxPool2d':
    case 'averagePooling2d': {
      const [h, w, c] = inShape as [number, number, number];
      return [
        windowOutput(h, p.kernel, p.stride, p.padding),
        windowOutput(w, p.kernel, p.stride, p.padding),
        type === 'conv2d' ? p.units : c,
      ];
    }
    case 'flatten':
      return [prod(inShape)];
    default:
      return [...inShape];
  }
}

function weightsOf(type: LayerType, inShape: readonly number[], units: number, kernel: number, useBias: boolean): WeightInfo[] {
  const channels = inShape[inShape.length - 1] ?? 0;
  switch (type) {
    case 'dense':
      return [
        { name: 'kernel', shape: [channels, units], trainable: true },
        ...(useBias ? [{ name: 'bias', shape: [units], trainable: true }] : []),
      ];
    case 'conv2d':
      return [
        { name: 'kernel', shape: [kernel, kernel, channels, units], trainable: true },
        ...(useBias ? [{ name: 'bias', shape: [units], trainable: true }] : []),
      ];
    case 'batchNormalization':
      return [
        { name: 'gamma', shape: [channels], trainable: true },
        { name: 'beta', shape: [channels], trainable: true },
        { name: 'moving_mean', shape: [channels], trainable: false },
        { name: 'moving_variance', shape: [channels], trainable: false },
      ];
    default:
      return [];
  }
}

const glorot = (seed: number): Record<string, unknown> => ({
  class_name: 'VarianceScaling',
  config: { scale: 1, mode: 'fan_avg', distribution: 'uniform', seed },
});
const zeros = { class_name: 'Zeros', config: {} };

/** The config tfjs-layers 4.22 writes for a layer built by the tfjs engine from this spec. */
function configOf(layer: LayerSpec, name: string, seed: number): Record<string, unknown> {
  switch (layer.type) {
    case 'dense':
      return {
        units: layer.units,
        activation: layer.activation ?? 'linear',
        use_bias: true,
        kernel_initializer: glorot(deriveSeed(seed, name)),
        bias_initializer: zeros,
        kernel_regularizer: null,
        bias_regularizer: null,
        activity_regularizer: null,
        kernel_constraint: null,
        bias_constraint: null,
        name,
        trainable: true,
      };
    case 'conv2d':
      return {
        filters: layer.filters,
        kernel_initializer: glorot(deriveSeed(seed, name)),
        kernel_regularizer: null,
        kernel_constraint: null,
        kernel_size: [layer.kernelSize, layer.kernelSize],
        strides: [layer.strides ?? 1, layer.strides ?? 1],
        padding: layer.padding ?? 'valid',
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        activation: layer.activation ?? 'linear',
        use_bias: true,
        bias_initializer: zeros,
        bias_regularizer: null,
        activity_regularizer: null,
        bias_constraint: null,
        name,
        trainable: true,
      };
    case 'maxPool2d':
    case 'averagePooling2d': {
      const stride = layer.strides ?? layer.poolSize;
      return {
        pool_size: [layer.poolSize, layer.poolSize],
        padding: layer.padding ?? 'valid',
        strides: [stride, stride],
        data_format: 'channels_last',
        name,
        trainable: true,
      };
    }
    case 'flatten':
      return { name, trainable: true };
    case 'dropout':
      return { rate: layer.rate, noise_shape: null, seed: deriveSeed(seed, name), name, trainable: true };
    case 'batchNormalization':
      return {
        axis: -1,
        momentum: BATCH_NORM_MOMENTUM,
        epsilon: BATCH_NORM_EPSILON,
        center: true,
        scale: true,
        beta_initializer: zeros,
        gamma_initializer: { class_name: 'Ones', config: {} },
        moving_mean_initializer: zeros,
        moving_variance_initializer: { class_name: 'Ones', config: {} },
        beta_regularizer: null,
        gamma_regularizer: null,
        beta_constraint: null,
        gamma_constraint: null,
        name,
        trainable: true,
      };
    case 'activation':
      return { activation: layer.activation, name, trainable: true };
  }
}

function makeLayer(
  type: LayerType,
  name: string,
  inShape: readonly number[],
  p: {
    activation: Activation | null;
    units: number;
    kernel: number;
    stride: number;
    padding: 'same' | 'valid';
    rate: number;
    useBias: boolean;
    momentum: number;
    epsilon: number;
  },
  config: Record<string, unknown>,
): KerasLayer {
  return {
    name,
    className: CLASS_NAMES[type],
    type,
    ...p,
    inShape: [...inShape],
    outShape: outputShape(type, inShape, p),
    weights: weightsOf(type, inShape, p.units, p.kernel, p.useBias),
    config,
  };
}

function checkShapes(layers: readonly KerasLayer[], inputShape: readonly number[]): void {
  const empty = layers.find((l) => l.outShape.some((d) => !(d > 0)));
  if (empty !== undefined) {
    throw new ModeError(
      'model',
      `layer ${empty.name} would output [${empty.outShape.join(', ')}]: inputs of shape [${inputShape.join(', ')}] are too small for ` +
        `this architecture; use padding 'same', fewer pooling layers or larger inputs`,
    );
  }
}

/**
 * The layers the tfjs engine builds from a spec: hidden layers named `${type}_${index}`, then the
 * output layer (dense numClasses, softmax).
 */
export function layersFromSpec(spec: ArchitectureSpec, seed: number): KerasModel {
  const all: LayerSpec[] = [...spec.layers, { type: 'dense', units: spec.numClasses, activation: 'softmax' }];
  const layers: KerasLayer[] = [];
  let shape: readonly number[] = [...spec.inputShape];
  all.forEach((layer, index) => {
    const name = `${layer.type}_${index}`;
    if ((layer.type === 'conv2d' || layer.type === 'maxPool2d' || layer.type === 'averagePooling2d') && shape.length !== 3) {
      throw new ModeError(
        'model',
        `the architecture does not build: layer ${name} needs inputs of shape [h, w, c], got [${shape.join(', ')}] (put it before flatten)`,
      );
    }
    const p = {
      activation:
        layer.type === 'dense' || layer.type === 'conv2d'
          ? (layer.activation ?? 'linear')
          : layer.type === 'activation'
            ? layer.activation
            : null,
      units: layer.type === 'dense' ? layer.units : layer.type === 'conv2d' ? layer.filters : 0,
      kernel:
        layer.type === 'conv2d' ? layer.kernelSize : layer.type === 'maxPool2d' || layer.type === 'averagePooling2d' ? layer.poolSize : 1,
      stride:
        layer.type === 'conv2d'
          ? (layer.strides ?? 1)
          : layer.type === 'maxPool2d' || layer.type === 'averagePooling2d'
            ? (layer.strides ?? layer.poolSize)
            : 1,
      padding: (layer.type === 'conv2d' || layer.type === 'maxPool2d' || layer.type === 'averagePooling2d'
        ? (layer.padding ?? 'valid')
        : 'valid') as 'same' | 'valid',
      rate: layer.type === 'dropout' ? layer.rate : 0,
      useBias: true,
      momentum: BATCH_NORM_MOMENTUM,
      epsilon: BATCH_NORM_EPSILON,
    };
    const built = makeLayer(layer.type, name, shape, p, configOf(layer, name, seed));
    layers.push(built);
    shape = built.outShape;
  });
  checkShapes(layers, spec.inputShape);
  return { name: 'sequential_1', inputShape: [...spec.inputShape], layers };
}

/** The model.json `modelTopology` tfjs-layers writes for a Sequential model of these layers. */
export function topologyOf(model: KerasModel): Record<string, unknown> {
  return {
    class_name: 'Sequential',
    config: {
      name: model.name,
      layers: model.layers.map((layer, index) => ({
        class_name: layer.className,
        config: index === 0 ? { ...layer.config, batch_input_shape: [null, ...model.inputShape], dtype: 'float32' } : layer.config,
      })),
    },
    keras_version: `tfjs-layers ${TFJS_LAYERS_VERSION}`,
    backend: 'tensor_flow.js',
  };
}

/** Weight names and shapes in the order tfjs writes them: every trainable weight, then the rest. */
export function manifestOrder(model: KerasModel): { layer: number; weight: number; name: string; shape: readonly number[] }[] {
  const entries = model.layers.flatMap((layer, layerIndex) =>
    layer.weights.map((w, weightIndex) => ({
      layer: layerIndex,
      weight: weightIndex,
      name: `${layer.name}/${w.name}`,
      shape: w.shape,
      trainable: w.trainable,
    })),
  );
  return [...entries.filter((e) => e.trainable), ...entries.filter((e) => !e.trainable)].map(({ trainable: _t, ...rest }) => rest);
}

/** What callers see of the layers (as the tfjs engine describes them). */
export function layerInfos(model: KerasModel): LayerInfo[] {
  return model.layers.map((l, index) => ({
    index,
    name: l.name,
    type: l.type,
    outputShape: [...l.outShape],
    hasWeights: l.weights.length > 0,
    activation: l.activation,
  }));
}

// ----- reading a topology -----

type Json = Record<string, unknown>;

function square(value: unknown, what: string, where: string): number {
  const pair = Array.isArray(value) ? value : [value, value];
  const [a, b] = pair as unknown[];
  if (typeof a !== 'number' || a !== b || !Number.isInteger(a) || a <= 0) {
    throw new ModeError('model', `${where}: ${what} ${JSON.stringify(value)} is not supported by this engine (square windows only)`);
  }
  return a;
}

function activationOf(value: unknown, where: string): Activation {
  if (value === undefined || value === null) return 'linear';
  if (typeof value === 'string' && (ACTIVATIONS as readonly string[]).includes(value)) return value as Activation;
  throw new ModeError(
    'model',
    `${where}: activation ${JSON.stringify(value)} is not supported: must be one of [${ACTIVATIONS.join(', ')}]`,
  );
}

/**
 * Reads a Sequential model.json topology (tfjs-layers or Keras) into layers. Refuses, with the
 * layer named, anything this engine cannot run exactly.
 */
export function layersFromTopology(topology: unknown, file: string): KerasModel {
  const top = topology as Json | null;
  const className = top?.['class_name'];
  const config = top?.['config'] as Json | Json[] | undefined;
  if (className !== 'Sequential') {
    throw new ModeError(
      'model',
      `${file}: a '${String(className)}' model is not supported by the torch engine (Sequential models only); use --engine wasm`,
    );
  }
  const entries = (Array.isArray(config) ? config : (config?.['layers'] as Json[] | undefined)) ?? [];
  const modelName = Array.isArray(config) ? 'sequential_1' : String(config?.['name'] ?? 'sequential_1');
  let inputShape: number[] | null = null;
  const layers: KerasLayer[] = [];
  let shape: readonly number[] = [];
  for (const entry of entries) {
    const cls = String(entry['class_name']);
    const c = (entry['config'] ?? {}) as Json;
    const name = String(c['name'] ?? `${cls}_${layers.length}`);
    const where = `${file}: layer ${name}`;
    const batchInput = (c['batch_input_shape'] ?? c['batch_shape']) as (number | null)[] | undefined;
    if (inputShape === null) {
      if (!Array.isArray(batchInput) || batchInput.slice(1).some((d) => typeof d !== 'number' || d <= 0)) {
        throw new ModeError(
          'model',
          `${where}: the first layer needs a fully defined batch_input_shape, got ${JSON.stringify(batchInput)}`,
        );
      }
      inputShape = batchInput.slice(1) as number[];
      shape = inputShape;
    }
    if (cls === 'InputLayer') continue;
    const type = TYPE_OF_CLASS[cls];
    if (type === undefined)
      throw new ModeError('model', `${where}: layer class '${cls}' is not supported by the torch engine; use --engine wasm`);
    if (c['data_format'] !== undefined && c['data_format'] !== 'channels_last')
      throw new ModeError('model', `${where}: data_format ${JSON.stringify(c['data_format'])} is not supported (channels_last only)`);
    const spatial = type === 'conv2d' || type === 'maxPool2d' || type === 'averagePooling2d';
    if (spatial && shape.length !== 3) throw new ModeError('model', `${where}: needs inputs of shape [h, w, c], got [${shape.join(', ')}]`);
    const padding = c['padding'] ?? 'valid';
    if (spatial && padding !== 'same' && padding !== 'valid')
      throw new ModeError('model', `${where}: padding ${JSON.stringify(padding)} is not supported`);
    if (type === 'conv2d' && c['dilation_rate'] !== undefined && square(c['dilation_rate'], 'dilation_rate', where) !== 1) {
      throw new ModeError('model', `${where}: dilated convolutions are not supported by the torch engine; use --engine wasm`);
    }
    if (type === 'batchNormalization') {
      const axis = c['axis'] ?? -1;
      if (!(axis === -1 || axis === shape.length))
        throw new ModeError('model', `${where}: batch normalization over axis ${JSON.stringify(axis)} is not supported (channels only)`);
      if (c['center'] === false || c['scale'] === false)
        throw new ModeError('model', `${where}: batch normalization without center or scale is not supported`);
    }
    const kernel =
      type === 'conv2d' ? square(c['kernel_size'], 'kernel_size', where) : spatial ? square(c['pool_size'] ?? 2, 'pool_size', where) : 1;
    const stride = spatial ? square(c['strides'] ?? (type === 'conv2d' ? 1 : kernel), 'strides', where) : 1;
    const units = type === 'dense' ? Number(c['units']) : type === 'conv2d' ? Number(c['filters']) : 0;
    if ((type === 'dense' || type === 'conv2d') && !(Number.isInteger(units) && units > 0))
      throw new ModeError('model', `${where}: needs a positive number of units, got ${JSON.stringify(c['units'] ?? c['filters'])}`);
    const rate = type === 'dropout' ? Number(c['rate']) : 0;
    if (!(rate >= 0 && rate < 1)) throw new ModeError('model', `${where}: dropout rate ${JSON.stringify(c['rate'])} must be in [0, 1)`);
    const activation = type === 'dense' || type === 'conv2d' || type === 'activation' ? activationOf(c['activation'], where) : null;
    const p = {
      activation,
      units,
      kernel,
      stride,
      padding: padding as 'same' | 'valid',
      rate,
      useBias: c['use_bias'] !== false,
      momentum: typeof c['momentum'] === 'number' ? c['momentum'] : BATCH_NORM_MOMENTUM,
      epsilon: typeof c['epsilon'] === 'number' ? c['epsilon'] : BATCH_NORM_EPSILON,
    };
    const { batch_input_shape: _b, batch_shape: _s, dtype: _d, ...rest } = c;
    const layer = makeLayer(type, name, shape, p, rest);
    layers.push(layer);
    shape = layer.outShape;
  }
  if (inputShape === null || layers.length === 0) throw new ModeError('model', `${file}: the model has no layers`);
  checkShapes(layers, inputShape);
  return { name: modelName, inputShape, layers };
}
