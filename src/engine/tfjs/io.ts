/**
 * Model folders in the tfjs Layers format: model.json (topology + weights manifest) and one or more
 * weight files. tfjs' own `file://` handler exists only in tfjs-node, so these are small handlers of
 * our own; a model saved by tfjs elsewhere (one or many weight shards) loads too.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MODEL_JSON, WEIGHTS_FILE, readModelFolder } from '../keras/model-folder.js';
import { tf } from './setup.js';

export {};

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

/** Reads a model folder (or a model.json path) into memory artifacts, checking what it can. */
export async function readModelArtifacts(location: string): Promise<tf.io.ModelArtifacts> {
  const contents = await readModelFolder(location);
  return {
    modelTopology: contents.modelTopology,
    weightSpecs: contents.weightSpecs as tf.io.WeightsManifestEntry[],
    weightData: contents.weightData,
    format: contents.format,
  };
}
