/** Architecture spec -> tfjs layers, with seeded initialisers (tfjs' string initialisers are unseeded). */
import { deriveSeed } from '../../core/rng.js';
import type { Activation, ArchitectureSpec, LayerInfo, LayerSpec, LayerType } from '../types.js';
import { tf } from './setup.js';

type TfLayer = Parameters<tf.Sequential['add']>[0];

/** tfjs' normal sampler treats seed 0 as "no seed": derived seeds are never 0. */
function seeded(seed: number, name: string) {
  return tf.initializers.glorotUniform({ seed: deriveSeed(seed, name) });
}

export function buildLayers(spec: ArchitectureSpec, seed: number): TfLayer[] {
  const layers: TfLayer[] = [];
  const all: LayerSpec[] = [...spec.layers, { type: 'dense', units: spec.numClasses, activation: 'softmax' }];
  all.forEach((layer, index) => {
    const name = `${layer.type}_${index}`;
    const first = index === 0 ? { inputShape: [...spec.inputShape] } : {};
    layers.push(makeLayer(layer, name, seed, first));
  });
  return layers;
}

function makeLayer(layer: LayerSpec, name: string, seed: number, first: { inputShape?: number[] }): TfLayer {
  switch (layer.type) {
    case 'dense':
      return tf.layers.dense({
        ...first,
        name,
        units: layer.units,
        activation: layer.activation ?? 'linear',
        kernelInitializer: seeded(seed, name),
        biasInitializer: 'zeros',
      });
    case 'conv2d':
      return tf.layers.conv2d({
        ...first,
        name,
        filters: layer.filters,
        kernelSize: layer.kernelSize,
        strides: layer.strides ?? 1,
        padding: layer.padding ?? 'valid',
        activation: layer.activation ?? 'linear',
        kernelInitializer: seeded(seed, name),
        biasInitializer: 'zeros',
      });
    case 'maxPool2d':
      return tf.layers.maxPooling2d({
        ...first,
        name,
        poolSize: layer.poolSize,
        strides: layer.strides ?? layer.poolSize,
        padding: layer.padding ?? 'valid',
      });
    case 'averagePooling2d':
      return tf.layers.averagePooling2d({
        ...first,
        name,
        poolSize: layer.poolSize,
        strides: layer.strides ?? layer.poolSize,
        padding: layer.padding ?? 'valid',
      });
    case 'flatten':
      return tf.layers.flatten({ ...first, name });
    case 'dropout':
      return tf.layers.dropout({ ...first, name, rate: layer.rate, seed: deriveSeed(seed, name) });
    case 'batchNormalization':
      return tf.layers.batchNormalization({ ...first, name });
    case 'activation':
      return tf.layers.activation({ ...first, name, activation: layer.activation });
  }
}

const CLASS_TO_TYPE: Record<string, LayerType> = {
  Dense: 'dense',
  Conv2D: 'conv2d',
  MaxPooling2D: 'maxPool2d',
  AveragePooling2D: 'averagePooling2d',
  Flatten: 'flatten',
  Dropout: 'dropout',
  BatchNormalization: 'batchNormalization',
  Activation: 'activation',
};

const KNOWN_ACTIVATIONS = new Set<string>(['relu', 'tanh', 'sigmoid', 'linear', 'elu', 'softmax']);

/** Describes the layers of any tfjs LayersModel (ours or loaded), skipping input layers. */
export function describeLayers(model: tf.LayersModel): LayerInfo[] {
  return model.layers
    .filter((l) => l.getClassName() !== 'InputLayer')
    .map((l, index) => {
      const config = l.getConfig() as { activation?: unknown };
      const activation =
        typeof config.activation === 'string' && KNOWN_ACTIVATIONS.has(config.activation) ? (config.activation as Activation) : null;
      const shape = l.outputShape as (number | null)[];
      return {
        index,
        name: l.name,
        type: CLASS_TO_TYPE[l.getClassName()] ?? 'other',
        outputShape: shape.slice(1).map((d) => d ?? -1),
        hasWeights: l.countParams() > 0,
        activation,
      };
    });
}
