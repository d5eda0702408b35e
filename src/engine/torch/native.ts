/**
 * Loads the libtorch addon (native/build/Release/mode_torch.node, built by scripts/build-native.mjs)
 * once per process, and types what it offers. OpenBLAS reads OPENBLAS_NUM_THREADS when it loads,
 * which is when the addon loads: it is set to 1 first, so BLAS does not start a thread pool that
 * fights ATen's own intra-op threads (engine-notes.md: 1 BLAS thread with 2 ATen threads was stable).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModeError } from '../../core/errors.js';
import type { KerasLayer } from '../keras/topology.js';

/** One layer as the addon builds it (see native/mode_torch.cc, layerOf): a Keras layer's settings, its type as `kind`. */
export type NativeLayerSpec = Pick<
  KerasLayer,
  'units' | 'kernel' | 'stride' | 'padding' | 'rate' | 'useBias' | 'momentum' | 'epsilon' | 'inShape'
> & {
  readonly kind: string;
  readonly activation: string;
};

export interface NativeNet {
  /** Weights in the tfjs layout, in layer order (batch norm: gamma, beta, moving_mean, moving_variance). */
  setWeights(weights: Float32Array[]): void;
  getWeights(): Float32Array[];
  clone(): NativeNet;
  /**
   * Writes the flattened, channels-last outputs of each layer into its array; runs off the JS thread.
   * With a dropout seed, dropout is on (masks from one generator seeded with it; batch norm in eval mode).
   */
  forward(
    x: Float32Array,
    count: number,
    batchSize: number,
    layers: Int32Array,
    outputs: Float32Array[],
    dropoutSeed?: number,
  ): Promise<void>;
  dispose(): void;
}

interface NativeFitSession {
  /** Trains the batches given by sizes on the rows of order in turn; [loss, correct] per batch done. */
  run(order: Int32Array, sizes: Int32Array, seeds: Uint32Array): Promise<Float64Array>;
  dispose(): void;
}

export interface NativeBinding {
  Net: new (layers: NativeLayerSpec[], inShape: readonly number[]) => NativeNet;
  FitSession: new (
    net: NativeNet,
    x: Float32Array,
    y: Int32Array,
    count: number,
    optimizer: { kind: string; learningRate: number; momentum: number },
  ) => NativeFitSession;
  liveTensors(): number;
  setThreads(threads: number): void;
  info(): { torch: string; threads: number; blas: string | null; blasThreads: number | null };
}

/** Where the build puts the addon (relative to the repository root). */
const ADDON_PATH = path.join('native', 'build', 'Release', 'mode_torch.node');

function repositoryRoot(): string {
  // This file runs as dist/src/engine/torch/native.js (or src/engine/torch/native.ts under a TS loader).
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'native'))) return dir;
    dir = path.dirname(dir);
  }
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
}

let loaded: { binding: NativeBinding } | { reason: string } | undefined;

function load(): { binding: NativeBinding } | { reason: string } {
  if (loaded !== undefined) return loaded;
  // MODE_TORCH_ADDON: another build of the addon (or a missing one, to test the fallback).
  const file = process.env['MODE_TORCH_ADDON'] ?? path.join(repositoryRoot(), ADDON_PATH);
  if (!existsSync(file)) {
    loaded = {
      reason:
        `the torch engine is not built (no ${process.env['MODE_TORCH_ADDON'] ?? ADDON_PATH}); ` +
        `install libtorch with scripts/install-torch-deps.sh, then run \`node scripts/build-native.mjs\``,
    };
    return loaded;
  }
  process.env['OPENBLAS_NUM_THREADS'] ??= '1';
  try {
    loaded = { binding: createRequire(import.meta.url)(file) as NativeBinding };
  } catch (error) {
    const message = (error as Error).message.split('\n')[0];
    loaded = {
      reason:
        `the torch engine does not load (${message}); reinstall libtorch (scripts/install-torch-deps.sh) and rebuild with ` +
        `\`node scripts/build-native.mjs\``,
    };
  }
  return loaded;
}

/** Null when the addon loads, else why not (one line). */
export function torchUnavailableReason(): string | null {
  const result = load();
  return 'binding' in result ? null : result.reason;
}

export function loadTorchBinding(): NativeBinding {
  const result = load();
  if ('binding' in result) return result.binding;
  throw new ModeError('engine', result.reason);
}

/** A native error as one of ours: one line, code 'engine'. */
export function nativeError(error: unknown, context: string): ModeError {
  if (error instanceof ModeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ModeError('engine', `${context}: ${message.split('\n')[0]}`, { cause: error });
}
