/**
 * What the importers share: a model read from another framework as a list of layers in the tfjs
 * Layers (Keras, channels-last) form with their weights in Keras layout; checking it against the
 * engines' own reading of a topology; the record of where it came from (import.json); and the
 * NCHW <-> NHWC pieces (kernel transposes, the flatten order, Keras 'same' padding).
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ModeError } from '../../core/errors.js';
import { writeJson } from '../../core/output-folder.js';
import type { Activation, LayerType } from '../../engine/index.js';
import { CLASS_NAMES, layersFromTopology, manifestOrder, topologyOf, type KerasModel } from '../../engine/keras/topology.js';
import { writeModelFolder } from '../../engine/keras/model-folder.js';

/** One layer read from a source model: its Keras meaning and its weights in Keras layout. */
export interface ImportedLayer {
  readonly type: LayerType;
  /** Where it came from, for messages (a node or layer name of the source). */
  readonly source: string;
  activation?: Activation;
  units?: number;
  kernel?: number;
  stride?: number;
  padding?: 'same' | 'valid';
  rate?: number;
  epsilon?: number;
  momentum?: number;
  /** Keras order: kernel, bias (dense, conv2d); gamma, beta, moving_mean, moving_variance (batch norm). */
  weights: { values: Float32Array; shape: number[] }[];
}

const IMPORT_FORMATS = ['onnx', 'keras', 'h5'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** Where an imported model came from, kept as import.json next to its model.json. */
export interface ImportRecord {
  readonly kind: 'mode-import';
  readonly version: 1;
  /** onnx, keras (Keras 3 .keras zip) or h5 (legacy Keras HDF5). */
  readonly format: ImportFormat;
  /** The file as given when it was imported (absolute). */
  readonly file: string;
  readonly sha256: string;
  /** The source's tensor layout: nchw (ONNX from PyTorch) or nhwc (Keras). */
  readonly layout: 'nchw' | 'nhwc';
  /** Whether the source ended in logits and a softmax was added (into its last dense layer, or as a layer). */
  readonly softmaxAppended: boolean;
  /** The source's input: name and shape with the batch axis (null where symbolic). */
  readonly input: { readonly name: string; readonly shape: (number | null)[] };
  readonly output: { readonly name: string };
}

const ImportRecordSchema: z.ZodType<ImportRecord> = z.object({
  kind: z.literal('mode-import'),
  version: z.literal(1),
  format: z.enum(IMPORT_FORMATS),
  file: z.string(),
  sha256: z.string(),
  layout: z.enum(['nchw', 'nhwc']),
  softmaxAppended: z.boolean(),
  input: z.object({ name: z.string(), shape: z.array(z.number().nullable()) }),
  output: z.object({ name: z.string() }),
});

export const IMPORT_RECORD_FILE = 'import.json';

export interface ImportedModel {
  readonly inputShape: number[];
  readonly layers: ImportedLayer[];
  readonly record: Omit<ImportRecord, 'kind' | 'version' | 'file' | 'sha256' | 'format' | 'softmaxAppended'>;
}

/** The import record of a model folder, or null when it has none. */
export async function readImportRecord(dir: string): Promise<ImportRecord | null> {
  const file = path.join(dir, IMPORT_RECORD_FILE);
  if (!existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new ModeError('io', `${file} is corrupt (${(error as Error).message}); delete the folder and import the model again`);
  }
  const parsed = ImportRecordSchema.safeParse(raw);
  if (!parsed.success)
    throw new ModeError('model', `${file} is not an import record of mode; delete the folder and import the model again`);
  return parsed.data;
}

// ----- NCHW <-> NHWC -----

/**
 * The flatten order: Keras flattens [h, w, c] as h*W*C + w*C + c, PyTorch / ONNX flatten [c, h, w]
 * as c*H*W + h*W + w. order[k] is the channels-first index of the value at channels-last index k.
 */
export function flattenOrder(c: number, h: number, w: number): Int32Array {
  const order = new Int32Array(c * h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) order[(y * w + x) * c + ch] = ch * h * w + y * w + x;
  return order;
}

/** Rows of a [rows, cols] matrix reordered: out row k = in row order[k]. */
export function permuteRows(values: Float32Array, cols: number, order: Int32Array): Float32Array {
  const out = new Float32Array(values.length);
  order.forEach((from, k) => out.set(values.subarray(from * cols, from * cols + cols), k * cols));
  return out;
}

/** Rows of a [rows, cols] matrix put back: out row order[k] = in row k (the inverse of permuteRows). */
export function unpermuteRows(values: Float32Array, cols: number, order: Int32Array): Float32Array {
  const out = new Float32Array(values.length);
  order.forEach((to, k) => out.set(values.subarray(k * cols, k * cols + cols), to * cols));
  return out;
}

/** A conv kernel [out, in, kh, kw] (ONNX, PyTorch) as [kh, kw, in, out] (Keras). */
export function kernelToKeras(values: Float32Array, out: number, inC: number, kh: number, kw: number): Float32Array {
  const dst = new Float32Array(values.length);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inC; i++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) dst[((y * kw + x) * inC + i) * out + o] = values[((o * inC + i) * kh + y) * kw + x]!;
  return dst;
}

/** A conv kernel [kh, kw, in, out] (Keras) as [out, in, kh, kw] (ONNX). */
export function kernelToOnnx(values: Float32Array, kh: number, kw: number, inC: number, out: number): Float32Array {
  const dst = new Float32Array(values.length);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inC; i++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) dst[((o * inC + i) * kh + y) * kw + x] = values[((y * kw + x) * inC + i) * out + o]!;
  return dst;
}

/** The padding Keras 'same' puts before and after one axis. */
export function samePads(size: number, kernel: number, stride: number): [number, number] {
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + kernel - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** A [rows, cols] matrix transposed. */
export function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

// ----- from imported layers to a model folder -----

/**
 * Ends the model in class probabilities, as the engines expect: a last dense layer without
 * activation gets softmax; a dense layer followed by a softmax activation becomes one dense softmax
 * layer; anything else gets a softmax activation layer. Returns whether a softmax was added.
 */
export function endInSoftmax(layers: ImportedLayer[]): boolean {
  const last = layers[layers.length - 1];
  const before = layers[layers.length - 2];
  if (last === undefined) return false;
  if (last.type === 'activation' && last.activation === 'softmax') {
    if (before !== undefined && before.type === 'dense' && (before.activation ?? 'linear') === 'linear') {
      before.activation = 'softmax';
      layers.pop();
    }
    return false;
  }
  if (last.type === 'dense' && last.activation === 'softmax') return false;
  if (last.type === 'dense' && (last.activation ?? 'linear') === 'linear') {
    last.activation = 'softmax';
    return true;
  }
  layers.push({ type: 'activation', source: 'softmax', activation: 'softmax', weights: [] });
  return true;
}

/** Folds an activation into the layer before it when that is a dense or conv layer without one. */
export function addActivation(layers: ImportedLayer[], activation: Activation, source: string): void {
  const last = layers[layers.length - 1];
  if (last !== undefined && (last.type === 'dense' || last.type === 'conv2d') && (last.activation ?? 'linear') === 'linear') {
    last.activation = activation;
    return;
  }
  layers.push({ type: 'activation', source, activation, weights: [] });
}

function configOf(layer: ImportedLayer, name: string): Record<string, unknown> {
  const base = { name, trainable: true };
  const pair = (v: number | undefined): number[] => [v ?? 1, v ?? 1];
  switch (layer.type) {
    case 'dense':
      return { ...base, units: layer.units, activation: layer.activation ?? 'linear', use_bias: layer.weights.length > 1 };
    case 'conv2d':
      return {
        ...base,
        filters: layer.units,
        kernel_size: pair(layer.kernel),
        strides: pair(layer.stride),
        padding: layer.padding ?? 'valid',
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        activation: layer.activation ?? 'linear',
        use_bias: layer.weights.length > 1,
      };
    case 'maxPool2d':
    case 'averagePooling2d':
      return {
        ...base,
        pool_size: pair(layer.kernel),
        strides: pair(layer.stride),
        padding: layer.padding ?? 'valid',
        data_format: 'channels_last',
      };
    case 'flatten':
      return base;
    case 'dropout':
      return { ...base, rate: layer.rate ?? 0 };
    case 'batchNormalization':
      return { ...base, axis: -1, momentum: layer.momentum ?? 0.99, epsilon: layer.epsilon ?? 1e-3, center: true, scale: true };
    case 'activation':
      return { ...base, activation: layer.activation ?? 'linear' };
  }
}

export interface ConvertedModel {
  readonly keras: KerasModel;
  /** In the order of the weights manifest. */
  readonly weights: { name: string; shape: readonly number[]; values: Float32Array }[];
}

/**
 * The imported layers as the engines will read them (through the same topology reader), with every
 * weight checked against the shape its layer needs.
 */
export function convertLayers(file: string, inputShape: readonly number[], layers: readonly ImportedLayer[]): ConvertedModel {
  const counts = new Map<LayerType, number>();
  const names = layers.map((l) => {
    const n = counts.get(l.type) ?? 0;
    counts.set(l.type, n + 1);
    return `${l.type}_${n}`;
  });
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'imported',
      layers: layers.map((l, i) => ({
        class_name: CLASS_NAMES[l.type],
        config: i === 0 ? { ...configOf(l, names[i]!), batch_input_shape: [null, ...inputShape] } : configOf(l, names[i]!),
      })),
    },
  };
  const keras = layersFromTopology(topology, file);
  const weights = manifestOrder(keras).map((entry) => {
    const layer = layers[entry.layer]!;
    const w = layer.weights[entry.weight];
    const expected = entry.shape.reduce((a, b) => a * b, 1);
    if (w === undefined || w.values.length !== expected) {
      throw new ModeError(
        'model',
        `${file}: ${layer.source}: weight ${entry.name.split('/')[1]} has shape [${w?.shape.join(', ') ?? ''}], ` +
          `its layer needs [${entry.shape.join(', ')}]`,
      );
    }
    return { name: entry.name, shape: entry.shape, values: w.values };
  });
  const extra = layers.findIndex((l, i) => l.weights.length > keras.layers[i]!.weights.length);
  if (extra >= 0) throw new ModeError('model', `${file}: ${layers[extra]!.source}: has more weights than its layer takes`);
  return { keras, weights };
}

/** Writes a converted model into dir (which exists): model.json, weights.bin, import.json. */
export async function writeImportedFolder(dir: string, model: ConvertedModel, record: ImportRecord): Promise<void> {
  await writeModelFolder(dir, topologyOf(model.keras), model.weights, `mode import (${record.format})`);
  await writeJson(path.join(dir, IMPORT_RECORD_FILE), record);
}
