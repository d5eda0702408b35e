/** The tfjs engine: wasm backend with our replacement kernels (or the cpu reference backend). */
import { createRequire } from 'node:module';
import { ModeError } from '../../core/errors.js';
import { deriveSeed } from '../../core/rng.js';
import type { ArchitectureSpec, Engine, EngineInfo, HeadOptions, Model, SoftmaxHead, TrainingData } from '../types.js';
import { readModelArtifacts } from './io.js';
import { buildLayers } from './layers.js';
import { TfjsModel } from './model.js';
import { type TfjsBackendName, startTfjs, tf } from './setup.js';
import { trainLoop } from './train-loop.js';

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export class TfjsEngine implements Engine {
  readonly info: EngineInfo;

  private constructor(backend: TfjsBackendName) {
    this.info = {
      name: `tfjs-${backend}`,
      backend,
      versions: { '@tensorflow/tfjs': tf.version.tfjs, '@tensorflow/tfjs-backend-wasm': packageVersion('@tensorflow/tfjs-backend-wasm') },
      // One thread on Node: tfjs-backend-wasm's threaded build is browser-only (EngineOptions.threads).
      threads: 1,
    };
  }

  static async create(backend: TfjsBackendName = 'wasm'): Promise<TfjsEngine> {
    await startTfjs(backend);
    return new TfjsEngine(backend);
  }

  buildModel(spec: ArchitectureSpec, seed: number): Model {
    const model = tf.sequential();
    try {
      for (const layer of buildLayers(spec, seed)) model.add(layer);
    } catch (error) {
      model.dispose();
      throw new ModeError('model', `the architecture does not build: ${(error as Error).message.split('\n')[0]}`);
    }
    const wrapped = new TfjsModel(model);
    const empty = wrapped.layers.find((l) => l.outputShape.some((d) => d <= 0));
    if (empty !== undefined) {
      wrapped.dispose();
      throw new ModeError(
        'model',
        `layer ${empty.name} would output [${empty.outputShape.join(', ')}]: inputs of shape [${spec.inputShape.join(', ')}] are too ` +
          `small for this architecture; use padding 'same', fewer pooling layers or larger inputs`,
      );
    }
    return wrapped;
  }

  async loadModel(dir: string): Promise<Model> {
    const artifacts = await readModelArtifacts(dir);
    let model: tf.LayersModel;
    try {
      model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    } catch (error) {
      throw new ModeError('model', `${dir}: the model does not load: ${(error as Error).message.split('\n')[0]}`);
    }
    return new TfjsModel(model);
  }

  async trainHead(features: TrainingData & { size: number }, numClasses: number, options: HeadOptions): Promise<SoftmaxHead> {
    const head = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [features.size],
          units: numClasses,
          activation: 'softmax',
          kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(options.seed, 'head') }),
          biasInitializer: 'zeros',
        }),
      ],
    });
    try {
      await trainLoop(head, features, features.size, [features.size], numClasses, {
        epochs: options.epochs,
        batchSize: options.batchSize,
        optimizer: { kind: 'adam', learningRate: options.learningRate },
        seed: options.seed,
        stage: 'head',
      });
      const [kernel, bias] = head.getWeights();
      const weights = kernel!.dataSync<'float32'>().slice();
      const biasValues = bias!.dataSync<'float32'>().slice();
      return new TfjsSoftmaxHead(features.size, numClasses, weights, biasValues);
    } finally {
      head.dispose();
    }
  }

  liveTensors(): number {
    return tf.memory().numTensors;
  }
}

class TfjsSoftmaxHead implements SoftmaxHead {
  constructor(
    readonly inputSize: number,
    readonly numClasses: number,
    readonly weights: Float32Array,
    readonly bias: Float32Array,
  ) {}

  async predict(features: Float32Array, count: number): Promise<Float32Array> {
    if (features.length !== count * this.inputSize) {
      throw new ModeError('shape', `head expects ${this.inputSize} features per input, got ${features.length / Math.max(count, 1)}`);
    }
    const out = new Float32Array(count * this.numClasses);
    const batch = 1024;
    const w = tf.tensor2d(this.weights, [this.inputSize, this.numClasses]);
    const b = tf.tensor1d(this.bias);
    try {
      for (let start = 0; start < count; start += batch) {
        const size = Math.min(batch, count - start);
        const p = tf.tidy(() =>
          tf.softmax(
            tf.add(
              tf.matMul(tf.tensor2d(features.subarray(start * this.inputSize, (start + size) * this.inputSize), [size, this.inputSize]), w),
              b,
            ),
          ),
        );
        out.set(await p.data<'float32'>(), start * this.numClasses);
        p.dispose();
      }
    } finally {
      w.dispose();
      b.dispose();
    }
    return out;
  }
}
