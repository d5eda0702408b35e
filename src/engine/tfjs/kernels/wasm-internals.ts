/**
 * The small slice of tfjs-backend-wasm internals our replacement kernels use. Pinned to
 * @tensorflow/tfjs-backend-wasm 4.22.0 (see package.json): `makeOutput`, `typedArrayFromHeap`,
 * `disposeData` are public methods of BackendWasm there, but not a stable API.
 *
 * Heap views: the wasm heap can grow on any allocation (ours, or one inside another kernel), which
 * detaches every Float32Array view taken before. Take views with `f32` only after the last
 * allocation of a phase, and never keep them across a kernel call.
 */
import * as tf from '@tensorflow/tfjs';

export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Float32Array): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

export const WASM = 'wasm';

export function asWasm(backend: unknown): WasmBackendLike {
  const b = backend as Partial<WasmBackendLike> | null;
  if (
    b == null ||
    typeof b.makeOutput !== 'function' ||
    typeof b.typedArrayFromHeap !== 'function' ||
    typeof b.disposeData !== 'function'
  ) {
    throw new Error('replacement wasm kernel called with a backend that is not BackendWasm');
  }
  return b as WasmBackendLike;
}

/** A float32 view of a tensor's data on the wasm heap (valid until the next allocation). */
export function f32(backend: WasmBackendLike, info: tf.TensorInfo): Float32Array {
  const v = backend.typedArrayFromHeap(info);
  if (!(v instanceof Float32Array)) throw new Error(`expected float32 data, got ${info.dtype}`);
  return v;
}

/** Runs whichever kernel is registered for 'wasm' under `name` (stock or ours). */
export function callWasmKernel(
  name: string,
  inputs: tf.NamedTensorInfoMap,
  backend: WasmBackendLike,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const k = tf.getKernel(name, WASM);
  if (k == null) throw new Error(`wasm kernel '${name}' is not registered`);
  return single(k.kernelFunc({ inputs, backend, attrs }), name);
}

function single(out: tf.TensorInfo | tf.TensorInfo[], name: string): tf.TensorInfo {
  if (Array.isArray(out)) {
    const first = out[0];
    if (out.length !== 1 || first === undefined) throw new Error(`kernel '${name}' returned ${out.length} outputs`);
    return first;
  }
  return out;
}

/** Same data, another shape: no copy and no refcount change (kernels read by dataId only). */
export function viewAs(info: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

export function dispose(backend: WasmBackendLike, ...infos: (tf.TensorInfo | null | undefined)[]): void {
  for (const info of infos) if (info) backend.disposeData(info.dataId);
}

export function dim(shape: readonly number[], i: number): number {
  const d = shape[i];
  if (d === undefined) throw new Error(`shape [${shape.join(',')}] has no axis ${i}`);
  return d;
}
