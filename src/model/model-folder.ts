/**
 * A model folder: the model in the tfjs Layers format (model.json + weights.bin, loadable by tfjs
 * anywhere) plus our own manifest.json (how it was made: resolved config, seeds, data, engine,
 * versions, timings) and metrics.json (what it scores).
 */
import { writeJson } from '../core/output-folder.js';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ModeError } from '../core/errors.js';
import type { RunEnvironment } from '../core/environment.js';
import type { Engine, EngineInfo, LayerSpec, Model } from '../engine/index.js';
import type { ClassificationMetrics } from './metrics.js';
import type { ImportRecord } from './import/imported.js';
import { resolveModelSource } from './import/model-source.js';
import { TrainConfigSchema, type TrainConfig } from './train-config.js';

const MANIFEST_FILE = 'manifest.json';
const METRICS_FILE = 'metrics.json';
export const MANIFEST_VERSION = 1;

export interface ModelManifest {
  kind: 'mode-model';
  manifestVersion: number;
  config: TrainConfig;
  seeds: Record<string, number>;
  data: {
    name: string;
    inputShape: readonly number[];
    numClasses: number;
    classNames: readonly string[];
    sizes: { train: number; validation: number; pool: number; test: number };
    scenarios: string[];
    trainCountsPerLabel: number[];
  };
  architecture: { name: string; layers: readonly LayerSpec[]; parameters: number };
  engine: EngineInfo;
  environment: RunEnvironment;
  timings: Record<string, number>;
}

export interface ModelMetrics {
  train: ClassificationMetrics;
  validation: ClassificationMetrics;
  test: ClassificationMetrics;
}

const ManifestHeadSchema = z.object({ kind: z.literal('mode-model'), manifestVersion: z.number(), config: TrainConfigSchema });

/** Writes a model folder (created when absent): the model (model.json + weights.bin), manifest.json and metrics.json. */
export async function saveModelFolder(dir: string, model: Model, manifest: ModelManifest, metrics: ModelMetrics): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await model.save(dir);
  await writeJson(path.join(dir, MANIFEST_FILE), manifest);
  await writeJson(path.join(dir, METRICS_FILE), metrics);
}

export interface LoadedModelFolder {
  model: Model;
  /** null for a tfjs model folder made elsewhere (no manifest of ours). */
  manifest: ModelManifest | null;
  /**
   * Where an imported model came from (an ONNX or Keras file, its layout and input and output names),
   * so it can be written back in its own format; null for models made by `mode train`.
   */
  source: ImportRecord | null;
  /** The model folder loaded: the one given, or the import cache's folder for a model file. */
  folder: string;
}

/**
 * Loads a model folder, or a model file of another framework (.onnx, .keras, .h5), which is imported
 * into the cache first (see model/import/model-source.ts).
 */
export async function loadModelFolder(location: string, engine: Engine): Promise<LoadedModelFolder> {
  const { dir, source } = await resolveModelSource(location);
  if (!existsSync(dir)) throw new ModeError('io', `model folder '${dir}' does not exist; pass the --out folder of \`mode train\``);
  const manifestPath = path.join(dir, MANIFEST_FILE);
  let manifest: ModelManifest | null = null;
  if (existsSync(manifestPath)) {
    let raw: unknown;
    try {
      raw = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
    } catch (error) {
      throw new ModeError(
        'io',
        `${manifestPath} is corrupt (${(error as Error).message}); retrain or delete it to treat the folder as a plain tfjs model`,
      );
    }
    const head = ManifestHeadSchema.safeParse(raw);
    if (!head.success) throw new ModeError('model', `${manifestPath} is not a mode model manifest; retrain with \`mode train\``);
    if (head.data.manifestVersion > MANIFEST_VERSION) {
      throw new ModeError(
        'model',
        `${manifestPath} was written by a newer mode (manifest version ${head.data.manifestVersion}, ` +
          `this one reads ${MANIFEST_VERSION}); upgrade mode`,
      );
    }
    manifest = { ...(raw as ModelManifest), config: head.data.config };
  }
  const model = await engine.loadModel(dir);
  return { model, manifest, source, folder: dir };
}
