/**
 * Model folders in the tfjs Layers format, without tfjs: model.json (topology + weights manifest)
 * and one or more weight files. Both engines read through here; a model saved by tfjs elsewhere
 * (one or many weight shards) loads too.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ModeError } from '../../core/errors.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

interface WeightEntry {
  readonly name: string;
  readonly shape: number[];
  readonly dtype: string;
  readonly quantization?: unknown;
}

export interface ModelFolderContents {
  readonly jsonPath: string;
  readonly modelTopology: object;
  readonly weightSpecs: WeightEntry[];
  /** All weight files, concatenated in manifest order. */
  readonly weightData: ArrayBuffer;
  readonly format: string;
}

interface ModelJsonFile {
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: WeightEntry[] }[];
  format?: string;
}

/** Reads a model folder (or a model.json path) into memory, checking what it can. */
export async function readModelFolder(location: string): Promise<ModelFolderContents> {
  let jsonPath = location;
  const stat = await fs.stat(location).catch(() => null);
  if (stat === null) throw new ModeError('io', `model folder '${location}' does not exist; pass the --out folder of \`mode train\``);
  if (stat.isDirectory()) jsonPath = path.join(location, MODEL_JSON);
  const dir = path.dirname(jsonPath);
  let parsed: ModelJsonFile;
  try {
    parsed = JSON.parse(await fs.readFile(jsonPath, 'utf8')) as ModelJsonFile;
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `is not valid JSON (${(error as Error).message})`;
    throw new ModeError('io', `${jsonPath} ${why}: a model folder holds model.json and its weight files in the tfjs Layers format`);
  }
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    parsed.modelTopology === undefined ||
    parsed.modelTopology === null ||
    !Array.isArray(parsed.weightsManifest)
  ) {
    throw new ModeError('model', `${jsonPath}: not a tfjs Layers model (needs modelTopology and weightsManifest)`);
  }
  const weightSpecs: WeightEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of parsed.weightsManifest) {
    if (!Array.isArray(group?.weights) || !Array.isArray(group.paths))
      throw new ModeError('model', `${jsonPath}: weightsManifest entries need paths and weights`);
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      const file = path.join(dir, p);
      try {
        buffers.push(await fs.readFile(file));
      } catch {
        throw new ModeError('io', `${file}: weight file named in ${MODEL_JSON} is missing; copy the whole model folder`);
      }
    }
  }
  const bytes = Buffer.concat(buffers);
  const expected = weightSpecs.reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1) * bytesPerElement(w.dtype, jsonPath), 0);
  if (bytes.length !== expected) {
    throw new ModeError(
      'model',
      `${dir}: weight files hold ${bytes.length} bytes but ${MODEL_JSON} describes ${expected}; the folder is corrupt or incomplete`,
    );
  }
  return {
    jsonPath,
    modelTopology: parsed.modelTopology as object,
    weightSpecs,
    weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
    format: parsed.format ?? 'layers-model',
  };
}

function bytesPerElement(dtype: string, file: string): number {
  if (dtype === 'float32' || dtype === 'int32') return 4;
  if (dtype === 'bool') return 1;
  throw new ModeError('model', `${file}: unsupported weight dtype '${dtype}' (expected float32 or int32)`);
}

/**
 * The float32 weights of a folder by name (`layer/weight`), each a copy. Refuses quantized or
 * non-float weights, which only tfjs itself can decode.
 */
export function weightsByName(contents: ModelFolderContents): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  let offset = 0;
  for (const spec of contents.weightSpecs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.dtype !== 'float32' || spec.quantization !== undefined) {
      throw new ModeError(
        'model',
        `${contents.jsonPath}: weight ${spec.name} is ${spec.quantization !== undefined ? 'quantized' : spec.dtype}; ` +
          `this engine reads float32 weights only (use --engine wasm)`,
      );
    }
    out.set(spec.name, new Float32Array(contents.weightData.slice(offset, offset + count * 4)));
    offset += count * 4;
  }
  return out;
}

/** Writes model.json + weights.bin as tfjs-layers does (one weight file, manifest in the given order). */
export async function writeModelFolder(
  dir: string,
  modelTopology: object,
  weights: readonly { name: string; shape: readonly number[]; values: Float32Array }[],
  generatedBy: string,
): Promise<void> {
  const bytes = Buffer.concat(weights.map((w) => Buffer.from(w.values.buffer, w.values.byteOffset, w.values.byteLength)));
  const modelJson = {
    format: 'layers-model',
    generatedBy,
    convertedBy: null,
    modelTopology,
    weightsManifest: [
      { paths: [`./${WEIGHTS_FILE}`], weights: weights.map((w) => ({ name: w.name, shape: [...w.shape], dtype: 'float32' })) },
    ],
  };
  await fs.writeFile(path.join(dir, WEIGHTS_FILE), bytes);
  await fs.writeFile(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
}
