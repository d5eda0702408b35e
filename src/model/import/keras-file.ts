/**
 * Keras files read into Keras layers: `.keras` (Keras 3: a zip of config.json and model.weights.h5,
 * weights at `layers/<name>/vars/<i>`) and legacy `.h5` (Keras 2: the `model_config` attribute,
 * weights at `model_weights/<layer>/<weight name>`). Sequential models of the layers the engines
 * have; anything else is refused with the layer named.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { ModeError } from '../../core/errors.js';
import { ACTIVATIONS, type Activation } from '../../engine/index.js';
import { addActivation, type ImportedLayer, type ImportedModel } from './imported.js';

type Json = Record<string, unknown>;

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

const isHdf5 = (bytes: Uint8Array): boolean => HDF5_SIGNATURE.every((b, i) => bytes[i] === b);

interface H5Dataset {
  readonly shape: number[] | null;
  readonly value: unknown;
}
interface H5Group {
  readonly attrs: Record<string, { value: unknown }>;
  get(path: string): unknown;
  keys(): string[];
}
interface H5Module {
  ready: Promise<unknown>;
  File: new (file: string, mode: string) => H5Group & { close(): void; file_id: bigint };
  Dataset: new (...args: never[]) => H5Dataset;
  Module?: { FS?: { streams?: ({ nfd?: number } | undefined)[] } } | undefined;
}

/**
 * Runs fn over an HDF5 file (bytes written to a temporary file for h5wasm), with the HDF5 library's
 * own error stacks kept off stderr: a damaged file is reported by our one line instead.
 */
async function withHdf5<T>(bytes: Uint8Array, file: string, fn: (root: H5Group, h5: H5Module) => T): Promise<T> {
  if (!isHdf5(bytes)) throw new ModeError('model', `${file}: not an HDF5 file (no HDF5 signature)`);
  const loaded = await import('h5wasm/node');
  const h5 = { ...(loaded.default as unknown as H5Module), Module: loaded.Module as H5Module['Module'] };
  await h5.ready;
  const tmp = path.join(os.tmpdir(), `mode-h5-${process.pid}-${randomBytes(6).toString('hex')}.h5`);
  await fs.writeFile(tmp, bytes);
  // h5wasm writes the HDF5 library's stderr straight to file descriptor 2 (NODERAWFS); point its
  // stderr stream at /dev/null while we read.
  const stderr = h5.Module?.FS?.streams?.[2];
  const quiet = stderr !== undefined && typeof stderr.nfd === 'number' ? openSync(os.devNull, 'w') : null;
  const loud = stderr?.nfd;
  if (quiet !== null) stderr!.nfd = quiet;
  let opened: (H5Group & { close(): void; file_id: bigint }) | null = null;
  try {
    try {
      opened = new h5.File(tmp, 'r');
    } catch (error) {
      throw new ModeError('model', `${file}: not a readable HDF5 file (${(error as Error).message}); the file is corrupt or truncated`);
    }
    if (opened.file_id < 0n) throw new ModeError('model', `${file}: not a readable HDF5 file; the file is corrupt or truncated`);
    try {
      return fn(opened, h5);
    } catch (error) {
      if (error instanceof ModeError) throw error;
      throw new ModeError('model', `${file}: HDF5 data could not be read (${(error as Error).message}); the file is corrupt or truncated`);
    }
  } finally {
    try {
      if (opened !== null && opened.file_id >= 0n) opened.close();
    } finally {
      if (quiet !== null) {
        stderr!.nfd = loud!;
        closeSync(quiet);
      }
      await fs.rm(tmp, { force: true });
    }
  }
}

function dataset(root: H5Group, h5: H5Module, at: string): { values: Float32Array; shape: number[] } | null {
  let node: unknown;
  try {
    node = root.get(at);
  } catch {
    return null;
  }
  if (node === null || node === undefined || !(node instanceof h5.Dataset)) return null;
  const value = node.value;
  const shape = node.shape ?? [];
  if (!(value instanceof Float32Array || value instanceof Float64Array)) return null;
  return { values: Float32Array.from(value), shape };
}

const attrText = (root: H5Group, name: string): string | null => {
  const v = root.attrs[name]?.value;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return null;
};

function activationOf(value: unknown, where: string): Activation {
  const name = value === undefined || value === null ? 'linear' : typeof value === 'object' ? (value as Json)['class_name'] : value;
  if (typeof name === 'string' && (ACTIVATIONS as readonly string[]).includes(name)) return name as Activation;
  throw new ModeError(
    'model',
    `${where}: activation ${JSON.stringify(value)} is not supported: must be one of [${ACTIVATIONS.join(', ')}]`,
  );
}

function square(value: unknown, what: string, where: string): number {
  const pair = Array.isArray(value) ? value : [value, value];
  const [a, b] = pair as unknown[];
  if (typeof a !== 'number' || a !== b || !Number.isInteger(a) || a <= 0) {
    throw new ModeError('model', `${where}: ${what} ${JSON.stringify(value)} is not supported (square windows only)`);
  }
  return a;
}

/**
 * The layers of a Keras Sequential config, each with its weights from `weightsOf(layerName, count)`.
 */
function layersFromConfig(
  config: unknown,
  file: string,
  weightsOf: (name: string, count: number, where: string) => { values: Float32Array; shape: number[] }[],
): ImportedModel {
  const top = config as Json | null;
  const className = top?.['class_name'];
  if (className !== 'Sequential') {
    throw new ModeError('model', `${file}: a Keras '${String(className)}' model is not supported (Sequential models only)`);
  }
  const entries = ((top?.['config'] as Json | undefined)?.['layers'] as Json[] | undefined) ?? [];
  let inputShape: number[] | null = null;
  const layers: ImportedLayer[] = [];
  for (const entry of entries) {
    const cls = String(entry['class_name']);
    const c = (entry['config'] ?? {}) as Json;
    const name = String(c['name'] ?? cls);
    const where = `${file}: layer '${name}' (${cls})`;
    const batch = (c['batch_input_shape'] ?? c['batch_shape']) as (number | null)[] | undefined;
    if (inputShape === null) {
      if (!Array.isArray(batch) || batch.length < 2 || batch.slice(1).some((d) => typeof d !== 'number' || d <= 0)) {
        throw new ModeError('model', `${where}: the model needs a fully defined input shape, got ${JSON.stringify(batch ?? null)}`);
      }
      inputShape = batch.slice(1) as number[];
      if (inputShape.length !== 1 && inputShape.length !== 3) {
        throw new ModeError('model', `${where}: input shape [${inputShape.join(', ')}] is not supported ([h, w, c] or [features])`);
      }
    }
    if (c['data_format'] !== undefined && c['data_format'] !== 'channels_last') {
      throw new ModeError('model', `${where}: data_format ${JSON.stringify(c['data_format'])} is not supported (channels_last only)`);
    }
    const source = `layer '${name}' (${cls})`;
    const padding = (): 'same' | 'valid' => {
      const p = c['padding'] ?? 'valid';
      if (p !== 'same' && p !== 'valid') throw new ModeError('model', `${where}: padding ${JSON.stringify(p)} is not supported`);
      return p;
    };
    switch (cls) {
      case 'InputLayer':
        break;
      case 'Dense':
      case 'Conv2D': {
        const type = cls === 'Dense' ? 'dense' : 'conv2d';
        if (type === 'conv2d') {
          if (c['dilation_rate'] !== undefined && square(c['dilation_rate'], 'dilation_rate', where) !== 1)
            throw new ModeError('model', `${where}: dilated convolutions are not supported`);
          if (c['groups'] !== undefined && c['groups'] !== 1)
            throw new ModeError('model', `${where}: groups ${JSON.stringify(c['groups'])} is not supported`);
        }
        const units = Number(type === 'dense' ? c['units'] : c['filters']);
        const useBias = c['use_bias'] !== false;
        layers.push({
          type,
          source,
          units,
          ...(type === 'conv2d'
            ? {
                kernel: square(c['kernel_size'], 'kernel_size', where),
                stride: square(c['strides'] ?? 1, 'strides', where),
                padding: padding(),
              }
            : {}),
          activation: activationOf(c['activation'], where),
          weights: weightsOf(name, useBias ? 2 : 1, where),
        });
        break;
      }
      case 'MaxPooling2D':
      case 'MaxPool2D':
      case 'AveragePooling2D':
      case 'AvgPool2D': {
        const kernel = square(c['pool_size'] ?? 2, 'pool_size', where);
        layers.push({
          type: cls.startsWith('Max') ? 'maxPool2d' : 'averagePooling2d',
          source,
          kernel,
          stride: square(c['strides'] ?? kernel, 'strides', where),
          padding: padding(),
          weights: [],
        });
        break;
      }
      case 'Flatten':
        layers.push({ type: 'flatten', source, weights: [] });
        break;
      case 'Dropout':
        layers.push({ type: 'dropout', source, rate: Number(c['rate'] ?? 0), weights: [] });
        break;
      case 'BatchNormalization': {
        const axis = Array.isArray(c['axis']) ? (c['axis'] as unknown[])[0] : (c['axis'] ?? -1);
        const rank = inputShape!.length === 1 || layers.some((l) => l.type === 'flatten') ? 1 : 3;
        if (!(axis === -1 || axis === rank)) {
          throw new ModeError(
            'model',
            `${where}: batch normalization over axis ${JSON.stringify(c['axis'])} is not supported (channels only)`,
          );
        }
        if (c['center'] === false || c['scale'] === false)
          throw new ModeError('model', `${where}: batch normalization without center or scale is not supported`);
        layers.push({
          type: 'batchNormalization',
          source,
          epsilon: typeof c['epsilon'] === 'number' ? c['epsilon'] : 1e-3,
          momentum: typeof c['momentum'] === 'number' ? c['momentum'] : 0.99,
          weights: weightsOf(name, 4, where),
        });
        break;
      }
      case 'Activation':
        addActivation(layers, activationOf(c['activation'], where), source);
        break;
      case 'ReLU':
        if ((c['max_value'] ?? null) !== null || Number(c['negative_slope'] ?? 0) !== 0 || Number(c['threshold'] ?? 0) !== 0)
          throw new ModeError('model', `${where}: only the plain ReLU (no max_value, negative_slope or threshold) is supported`);
        addActivation(layers, 'relu', source);
        break;
      case 'Softmax':
        addActivation(layers, 'softmax', source);
        break;
      default:
        throw new ModeError(
          'model',
          `${where}: layer class '${cls}' is not supported; supported: Dense, Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dropout, ` +
            'BatchNormalization, Activation, ReLU, Softmax',
        );
    }
  }
  if (inputShape === null || layers.length === 0) throw new ModeError('model', `${file}: the model has no layers`);
  return {
    inputShape,
    layers,
    record: { layout: 'nhwc', input: { name: 'input', shape: [null, ...inputShape] }, output: { name: 'output' } },
  };
}

/** A `.keras` file (Keras 3 zip). */
export async function importKerasZip(bytes: Uint8Array, file: string): Promise<ImportedModel> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (error) {
    throw new ModeError('model', `${file}: not a readable .keras file (${(error as Error).message}); the zip is corrupt or truncated`);
  }
  const configBytes = entries['config.json'];
  const weightBytes = entries['model.weights.h5'];
  if (configBytes === undefined || weightBytes === undefined) {
    throw new ModeError('model', `${file}: not a Keras 3 model file (a .keras zip holds config.json and model.weights.h5)`);
  }
  let config: unknown;
  try {
    config = JSON.parse(new TextDecoder().decode(configBytes));
  } catch (error) {
    throw new ModeError('model', `${file}: config.json is not valid JSON (${(error as Error).message})`);
  }
  return withHdf5(weightBytes, `${file} (model.weights.h5)`, (root, h5) =>
    layersFromConfig(config, file, (name, count, where) => {
      const found: { values: Float32Array; shape: number[] }[] = [];
      for (let i = 0; i < count; i++) {
        const w = dataset(root, h5, `layers/${name}/vars/${i}`) ?? dataset(root, h5, `_layer_checkpoint_dependencies/${name}/vars/${i}`);
        if (w === null) throw new ModeError('model', `${where}: weight layers/${name}/vars/${i} is missing from model.weights.h5`);
        found.push(w);
      }
      return found;
    }),
  );
}

/** A legacy Keras `.h5` file (Keras 2: model_config and model_weights). */
export async function importKerasH5(bytes: Uint8Array, file: string): Promise<ImportedModel> {
  return withHdf5(bytes, file, (root, h5) => {
    const text = attrText(root, 'model_config');
    if (text === null) {
      throw new ModeError(
        'model',
        `${file}: not a Keras model (the HDF5 file has no model_config attribute; save it with model.save('model.h5'))`,
      );
    }
    let config: unknown;
    try {
      config = JSON.parse(text);
    } catch (error) {
      throw new ModeError('model', `${file}: model_config is not valid JSON (${(error as Error).message})`);
    }
    return layersFromConfig(config, file, (name, count, where) => {
      const group = `model_weights/${name}`;
      let names: string[];
      try {
        const g = root.get(group) as H5Group | null;
        const raw = g?.attrs['weight_names']?.value;
        names = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? [raw] : [];
      } catch {
        names = [];
      }
      if (names.length < count) throw new ModeError('model', `${where}: ${group} lists ${names.length} weights, the layer needs ${count}`);
      return names.slice(0, count).map((n) => {
        const w = dataset(root, h5, `${group}/${n}`);
        if (w === null) throw new ModeError('model', `${where}: weight ${group}/${n} is missing`);
        return w;
      });
    });
  });
}
