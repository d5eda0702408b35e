/**
 * Starts tfjs on the chosen backend once per process. `wasm` (default) gets our replacement kernels;
 * `cpu` is the slow pure-JS reference used to check them.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ModeError } from '../../core/errors.js';
import { registerWasmKernels } from './kernels/index.js';

export type TfjsBackendName = 'wasm' | 'cpu';

const require = createRequire(import.meta.url);
let started: Promise<void> | null = null;
let startedBackend: TfjsBackendName | null = null;
let wasmPathsSet = false;

function wasmDirectory(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + path.sep + 'dist' + path.sep;
}

/** Quiets tfjs' console banner about tfjs-node: this engine is deliberate. */
function quietTfjs(): void {
  tf.env().set('IS_NODE', true);
  tf.env().set('PROD', true);
}

export async function startTfjs(backend: TfjsBackendName = 'wasm'): Promise<void> {
  if (started) {
    await started;
    if (startedBackend !== backend) await switchBackend(backend);
    return;
  }
  startedBackend = backend;
  started = (async () => {
    quietTfjs();
    if (!wasmPathsSet) {
      setWasmPaths(wasmDirectory());
      wasmPathsSet = true;
    }
    registerWasmKernels();
    await switchBackend(backend);
  })();
  await started;
}

async function switchBackend(backend: TfjsBackendName): Promise<void> {
  const ok = await tf.setBackend(backend);
  await tf.ready();
  if (!ok || tf.getBackend() !== backend) {
    throw new ModeError('engine', `could not start the tfjs '${backend}' backend; reinstall with \`npm ci\``);
  }
  startedBackend = backend;
}

export { tf };
