/**
 * Our replacement / added kernels for the tfjs 'wasm' backend (tfjs and tfjs-backend-wasm pinned to
 * 4.22.0: these rely on backend internals; kernels.test.ts checks each against the 'cpu' backend).
 *
 * - Conv2DBackpropFilter: missing upstream (tfjs #8474): im2col + matmul.
 * - BatchMatMul: transposeA/B materialised with the wasm Transpose kernel, then the stock plain path.
 * - Conv2DBackpropInput: correlation of the (stride-dilated) dy with the flipped filter on wasm Conv2D.
 * - MaxPoolGrad: JS over the wasm heap; fixes the stock kernel's all-non-positive-window bug.
 */
import * as tf from '@tensorflow/tfjs';
// Registers the stock wasm kernels, which we must capture before replacing them.
import '@tensorflow/tfjs-backend-wasm';
import { BATCH_MAT_MUL, batchMatMulConfig, captureStockBatchMatMul } from './batch-mat-mul.js';
import { CONV2D_BACKPROP_FILTER, conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { CONV2D_BACKPROP_INPUT, captureStockConv2DBackpropInput, conv2DBackpropInputConfig } from './conv2d-backprop-input.js';
import { MAX_POOL_GRAD, maxPoolGradConfig } from './max-pool-grad.js';
import { WASM } from './wasm-internals.js';

export type WasmKernelName = 'Conv2DBackpropFilter' | 'BatchMatMul' | 'Conv2DBackpropInput' | 'MaxPoolGrad';

export const REPLACED_WASM_KERNELS: readonly WasmKernelName[] = [
  CONV2D_BACKPROP_FILTER,
  BATCH_MAT_MUL,
  CONV2D_BACKPROP_INPUT,
  MAX_POOL_GRAD,
] as const;

/** Stock configs as found before our first registration (undefined: none upstream). */
const stockConfigs = new Map<string, tf.KernelConfig | undefined>();

function replace(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, WASM) != null) tf.unregisterKernel(config.kernelName, WASM);
  tf.registerKernel(config);
}

/** The kernelFunc we registered under each name (to tell ours from stock). */
const ourFuncs = new Map<string, tf.KernelFunc>();

function isOurs(name: string, config: tf.KernelConfig | undefined): boolean {
  return config != null && ourFuncs.has(name) && ourFuncs.get(name) === config.kernelFunc;
}

/**
 * Registers our four kernels for 'wasm', replacing whatever is registered under those names.
 * Idempotent. Call before (or after) `tf.setBackend('wasm')`; either order works.
 */
export function registerWasmKernels(names: readonly WasmKernelName[] = REPLACED_WASM_KERNELS): void {
  for (const name of REPLACED_WASM_KERNELS) {
    const current = tf.getKernel(name, WASM);
    if (!stockConfigs.has(name) && !isOurs(name, current)) stockConfigs.set(name, current);
  }
  captureStockBatchMatMul(stockConfigs.get(BATCH_MAT_MUL));
  captureStockConv2DBackpropInput(stockConfigs.get(CONV2D_BACKPROP_INPUT));
  const make: Record<WasmKernelName, () => tf.KernelConfig> = {
    Conv2DBackpropFilter: conv2DBackpropFilterConfig,
    BatchMatMul: batchMatMulConfig,
    Conv2DBackpropInput: conv2DBackpropInputConfig,
    MaxPoolGrad: maxPoolGradConfig,
  };
  for (const name of names) {
    const config = make[name]();
    // tfjs runs setupFunc only for registered kernels (at backend init and on every setBackend). Carry
    // the stock kernel's, so the stock kernel is bound when we fall back to it or restore it.
    const stockSetup = stockConfigs.get(name)?.setupFunc;
    if (config.setupFunc == null && stockSetup != null) config.setupFunc = stockSetup;
    ourFuncs.set(name, config.kernelFunc);
    replace(config);
  }
}

/**
 * Puts the stock wasm kernels back (for benchmarks and tests comparing stock vs ours). A kernel with no
 * stock version (Conv2DBackpropFilter) is left unregistered.
 */
export function restoreStockWasmKernels(names: readonly WasmKernelName[] = REPLACED_WASM_KERNELS): void {
  for (const name of names) {
    const current = tf.getKernel(name, WASM);
    if (!isOurs(name, current)) continue;
    tf.unregisterKernel(name, WASM);
    const stock = stockConfigs.get(name);
    if (stock == null) continue;
    tf.registerKernel(stock);
    const backend = tf.findBackend(WASM);
    if (backend != null && stock.setupFunc != null) stock.setupFunc(backend);
  }
}

/** True when the kernel registered for 'wasm' under `name` is ours. */
export function isReplacedWasmKernel(name: WasmKernelName): boolean {
  return isOurs(name, tf.getKernel(name, WASM));
}
