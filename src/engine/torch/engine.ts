/**
 * The torch engine: libtorch 1.13 (Debian libtorch-dev) through our own N-API addon (native/).
 * Same semantics as the tfjs engine (Keras layers, NHWC data, tfjs Layers files), so a model moves
 * between engines; training and inference run on libuv worker threads.
 */
import { ModeError, shapeError } from '../../core/errors.js';
import { deriveSeed } from '../../core/rng.js';
import { readModelFolder, weightsByName } from '../keras/model-folder.js';
import { type KerasModel, layersFromSpec, layersFromTopology } from '../keras/topology.js';
import type { ArchitectureSpec, Engine, EngineInfo, HeadOptions, Model, SoftmaxHead, TrainingData } from '../types.js';
import { type NativeBinding, loadTorchBinding, nativeError } from './native.js';
import { TorchModel, createNet, initialWeights } from './model.js';
import { torchTrainLoop } from './train-loop.js';

/** ATen intra-op threads by default (engine-notes.md: 2 threads with 1 OpenBLAS thread was stable). */
const DEFAULT_TORCH_THREADS = 2;

export class TorchEngine implements Engine {
  readonly info: EngineInfo;

  private constructor(
    private readonly binding: NativeBinding,
    threads: number,
  ) {
    const native = binding.info();
    this.info = {
      name: 'torch',
      backend: 'libtorch-cpu',
      versions: {
        libtorch: native.torch,
        ...(native.blas !== null
          ? { blas: `${native.blas} (${native.blasThreads ?? '?'} thread${native.blasThreads === 1 ? '' : 's'})` }
          : {}),
      },
      threads,
    };
  }

  /** Throws a ModeError (one line, how to fix it) when the addon is not built or does not load. */
  static create(threads = DEFAULT_TORCH_THREADS): TorchEngine {
    if (!(Number.isInteger(threads) && threads >= 1)) throw new ModeError('usage', `threads must be a positive integer, got ${threads}`);
    const binding = loadTorchBinding();
    binding.setThreads(threads);
    return new TorchEngine(binding, threads);
  }

  buildModel(spec: ArchitectureSpec, seed: number): Model {
    const keras = layersFromSpec(spec, seed);
    const weights = keras.layers.flatMap((layer) => initialWeights(layer, deriveSeed(seed, layer.name)));
    return new TorchModel(this.binding, createNet(this.binding, keras, weights), keras);
  }

  async loadModel(dir: string): Promise<Model> {
    const contents = await readModelFolder(dir);
    const keras = layersFromTopology(contents.modelTopology, contents.jsonPath);
    const byName = weightsByName(contents);
    const weights: Float32Array[] = [];
    for (const layer of keras.layers) {
      for (const w of layer.weights) {
        const name = `${layer.name}/${w.name}`;
        const values = byName.get(name);
        const expected = w.shape.reduce((a, b) => a * b, 1);
        if (values === undefined)
          throw new ModeError(
            'model',
            `${contents.jsonPath}: weight ${name} is missing from the weights manifest; the folder is corrupt or incomplete`,
          );
        if (values.length !== expected)
          throw new ModeError(
            'model',
            `${contents.jsonPath}: weight ${name} holds ${values.length} values, its layer needs [${w.shape.join(', ')}] = ${expected}`,
          );
        weights.push(values);
      }
    }
    return new TorchModel(this.binding, createNet(this.binding, keras, weights), keras);
  }

  async trainHead(features: TrainingData & { size: number }, numClasses: number, options: HeadOptions): Promise<SoftmaxHead> {
    if (features.x.length !== features.count * features.size) {
      throw shapeError(
        `features hold ${features.x.length} values but ${features.count} rows of ${features.size} need ${features.count * features.size}`,
      );
    }
    const head = headModel(features.size, numClasses);
    const net = createNet(this.binding, head, initialWeights(head.layers[0]!, deriveSeed(options.seed, 'head')));
    try {
      await torchTrainLoop(this.binding, net, features, {
        epochs: options.epochs,
        batchSize: options.batchSize,
        optimizer: { kind: 'adam', learningRate: options.learningRate },
        seed: options.seed,
        stage: 'head',
      });
      const [weights, bias] = net.getWeights();
      return new TorchSoftmaxHead(this.binding, features.size, numClasses, weights!, bias!);
    } finally {
      net.dispose();
    }
  }

  liveTensors(): number {
    return this.binding.liveTensors();
  }
}

/** A dense softmax layer on flat features: the head of a feature model. */
function headModel(size: number, numClasses: number): KerasModel {
  const dense = layersFromSpec({ inputShape: [1, size, 1], numClasses, layers: [{ type: 'flatten' }] }, 0).layers[1]!;
  return { name: 'head', inputShape: [size], layers: [dense] };
}

class TorchSoftmaxHead implements SoftmaxHead {
  constructor(
    private readonly binding: NativeBinding,
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
    if (count === 0) return out;
    const net = createNet(this.binding, headModel(this.inputSize, this.numClasses), [this.weights, this.bias]);
    try {
      await net.forward(features, count, 1024, Int32Array.of(0), [out]);
    } catch (error) {
      throw nativeError(error, 'torch engine: the head failed');
    } finally {
      net.dispose();
    }
    return out;
  }
}
