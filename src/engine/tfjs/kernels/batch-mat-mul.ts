/**
 * BatchMatMul for 'wasm' with transposeA / transposeB.
 *
 * The stock wasm kernel sends any transposed product (and any batch > 1) to a naive blocked C++ loop;
 * only the plain 2-D product goes to XNNPACK's fully-connected operator. Dense-layer gradients,
 * `dy @ W^T` and `x^T @ dy`, hit the slow loop on every step. Here the transpose is materialised first
 * (wasm Transpose kernel, or a free reshape when one of the two inner axes is 1) and the stock plain
 * path runs. Without a transpose this is the stock kernel unchanged.
 *
 * XNNPACK repacks its "b" (weights) operand whenever b is a new tensor, which in training is every
 * call; packing costs a few times a transpose per element. So for a 2-D product the kernel also
 * considers computing C^T = B' @ A' and transposing C back, whichever moves fewer values; for
 * dy @ W^T (batch x out) @ (out x in) that packs dy^T instead of the whole weight matrix.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, dispose, callWasmKernel, WASM, type WasmBackendLike } from './wasm-internals.js';

export const BATCH_MAT_MUL = 'BatchMatMul';

/** Relative per-element costs measured on tfjs-backend-wasm 4.22 (SIMD, 1 thread). */
const TRANSPOSE_COST = 1;
const PACK_COST = 4;

/** The stock kernel, captured by `captureStockBatchMatMul` before ours replaces it. */
let stock: tf.KernelConfig | null = null;

export function captureStockBatchMatMul(current: tf.KernelConfig | undefined): void {
  if (current != null && current.kernelFunc !== batchMatMul) stock = current;
}

function stockKernel(): tf.KernelConfig {
  if (stock == null) throw new Error('stock wasm BatchMatMul was not captured; import @tensorflow/tfjs-backend-wasm first');
  return stock;
}

/** Swaps the last two axes; shares the buffer (one more reference) when one of them is 1. */
function transposeInner(x: tf.TensorInfo, backend: WasmBackendLike): tf.TensorInfo {
  const rank = x.shape.length;
  const shape = x.shape.slice();
  const r = shape[rank - 2] ?? 1;
  const c = shape[rank - 1] ?? 1;
  shape[rank - 2] = c;
  shape[rank - 1] = r;
  if (r === 1 || c === 1) {
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape, dtype: x.dtype };
  }
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return callWasmKernel('Transpose', { x }, backend, { perm });
}

function transposeCost(rows: number, cols: number): number {
  return rows === 1 || cols === 1 ? 0 : TRANSPOSE_COST * rows * cols;
}

/** Plain product through the stock kernel; `ta`/`tb` say whether to transpose a/b first. */
function plain(a: tf.TensorInfo, b: tf.TensorInfo, ta: boolean, tb: boolean, backend: WasmBackendLike): tf.TensorInfo | tf.TensorInfo[] {
  const a2 = ta ? transposeInner(a, backend) : a;
  let b2: tf.TensorInfo | null = null;
  try {
    b2 = tb ? transposeInner(b, backend) : b;
    return stockKernel().kernelFunc({ inputs: { a: a2, b: b2 }, backend, attrs: { transposeA: false, transposeB: false } });
  } finally {
    dispose(backend, ta ? a2 : null, tb ? b2 : null);
  }
}

function batchMatMul(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, attrs } = args;
  const transposeA = attrs?.['transposeA'] === true;
  const transposeB = attrs?.['transposeB'] === true;
  const a = inputs['a'];
  const b = inputs['b'];
  if ((!transposeA && !transposeB) || a == null || b == null || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return stockKernel().kernelFunc(args);
  }
  const backend = asWasm(args.backend);
  const ra = a.shape.length;
  const rb = b.shape.length;
  const batchA = a.shape.slice(0, -2).reduce((p, q) => p * q, 1);
  const batchB = b.shape.slice(0, -2).reduce((p, q) => p * q, 1);
  const M = (transposeA ? a.shape[ra - 1] : a.shape[ra - 2]) ?? 1;
  const K = (transposeA ? a.shape[ra - 2] : a.shape[ra - 1]) ?? 1;
  const N = (transposeB ? b.shape[rb - 2] : b.shape[rb - 1]) ?? 1;
  if (batchA !== 1 || batchB !== 1 || ra !== 2 || rb !== 2) {
    // Batched products take the stock C++ loop anyway; only the transposes need materialising.
    return plain(a, b, transposeA, transposeB, backend);
  }
  // Route 1: C = op(A) @ op(B), packing op(B) [K, N].
  const direct = (transposeA ? transposeCost(K, M) : 0) + (transposeB ? transposeCost(N, K) : 0) + PACK_COST * K * N;
  // Route 2: C^T = op(B)^T @ op(A)^T, packing op(A)^T [K, M], then transposing C^T [N, M].
  const swapped = (transposeB ? 0 : transposeCost(K, N)) + (transposeA ? 0 : transposeCost(M, K)) + PACK_COST * K * M + transposeCost(N, M);
  if (direct <= swapped) return plain(a, b, transposeA, transposeB, backend);
  let ct: tf.TensorInfo | null = null;
  try {
    // op(B)^T is B itself when transposeB, else B^T; likewise op(A)^T.
    const out = plain(b, a, !transposeB, !transposeA, backend);
    ct = Array.isArray(out) ? (out[0] ?? null) : out;
    if (ct == null) throw new Error('BatchMatMul returned no output');
    return callWasmKernel('Transpose', { x: { dataId: ct.dataId, shape: [N, M], dtype: ct.dtype } }, backend, { perm: [1, 0] });
  } finally {
    dispose(backend, ct);
  }
}

export function batchMatMulConfig(): tf.KernelConfig {
  stockKernel(); // fail early if the stock kernel was not captured
  return { kernelName: BATCH_MAT_MUL, backendName: WASM, kernelFunc: batchMatMul };
}
