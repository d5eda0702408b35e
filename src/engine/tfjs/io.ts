/**
 * Model folders in the tfjs Layers format: model.json (topology + weights manifest) and one or more
 * weight files. tfjs' own `file://` handler exists only in tfjs-node, so these are small handlers of
 * our own; a model saved by tfjs elsewhere (one or many weight shards) loads too.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ModeError } from '../../core/errors.js';
import { tf } from './setup.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const weightData = artifacts.weightData;
      const buffers = weightData === undefined ? [] : Array.isArray(weightData) ? weightData : [weightData];
      const bytes = Buffer.concat(buffers.map((b) => Buffer.from(b)));
      const modelJson = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs ?? [] }],
      };
      await fs.writeFile(path.join(dir, WEIGHTS_FILE), bytes);
      await fs.writeFile(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON', weightDataBytes: bytes.length } };
    },
  };
}

interface ModelJsonFile {
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  format?: string;
}

/** Reads a model folder (or a model.json path) into memory artifacts, checking what it can. */
export async function readModelArtifacts(location: string): Promise<tf.io.ModelArtifacts> {
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
  if (parsed.modelTopology === undefined || !Array.isArray(parsed.weightsManifest)) {
    throw new ModeError('model', `${jsonPath}: not a tfjs Layers model (needs modelTopology and weightsManifest)`);
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of parsed.weightsManifest) {
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
    throw new ModeError('model', `${dir}: weight files hold ${bytes.length} bytes but ${MODEL_JSON} describes ${expected}; the folder is corrupt or incomplete`);
  }
  return {
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
