/**
 * Conv2DBackpropFilter for 'wasm' (missing upstream, tfjs issue #8474, so CNN training fails there).
 *
 *   dW[kh, kw, ci, co] = sum over (b, oh, ow) of x[b, oh*sH + kh - padTop, ow*sW + kw - padLeft, ci] * dy[b, oh, ow, co]
 *
 * Two routes, both ending in XNNPACK through stock wasm kernels:
 * - conv: the filter gradient is itself a convolution of x with batch and channel axes swapped,
 *   [Ci, H, W, B], with dy as the filter, [OH, OW, B, Co], the forward strides becoming dilations
 *   (wasm Conv2D handles dilation and explicit padding); then [Ci, KH, KW, Co] -> [KH, KW, Ci, Co].
 * - im2col: cols^T [KH*KW*Ci, B*OH*OW] gathered in JS into the wasm heap, times dy [B*OH*OW, Co],
 *   in batch chunks so cols stays bounded.
 * `preferConv` picks per shape. Any stride, padding ('valid', 'same', numeric, explicit) and
 * dimRoundingMode; NHWC only (the wasm backend is NHWC-only too); dilation 1 (tfjs's conv2d gradient
 * requires it).
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, callWasmKernel, dim, dispose, f32, viewAs, WASM, type WasmBackendLike } from './wasm-internals.js';

export const CONV2D_BACKPROP_FILTER = 'Conv2DBackpropFilter';

/** Upper bound on im2col elements per chunk (64 MiB of float32). */
const MAX_COLS_ELEMENTS = 16 * 1024 * 1024;
let maxColsElements = MAX_COLS_ELEMENTS;

export type BackpropFilterRoute = 'auto' | 'im2col' | 'conv';
let forcedRoute: BackpropFilterRoute = 'auto';
/** For benchmarks and tests: force one route ('auto' picks per shape). */
export function setBackpropFilterRoute(route: BackpropFilterRoute): void {
  forcedRoute = route;
}

/** For tests: a small im2col chunk bound exercises the batch-chunked path; null restores the default. */
export function setIm2colChunkElements(n: number | null): void {
  maxColsElements = n ?? MAX_COLS_ELEMENTS;
}

function conv2DBackpropFilter(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = asWasm(args.backend);
  const x = args.inputs['x'];
  const dy = args.inputs['dy'];
  if (x == null || dy == null) throw new Error('Conv2DBackpropFilter needs inputs x and dy');
  const attrs = (args.attrs ?? {}) as unknown as tf.Conv2DBackpropFilterAttrs;
  if (attrs.dataFormat === 'NCHW') throw new Error("wasm Conv2DBackpropFilter supports dataFormat 'NHWC' only");
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') throw new Error('wasm Conv2DBackpropFilter supports float32 only');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize: B, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co, filterHeight: KH, filterWidth: KW } = info;
  if (dim(dy.shape, 0) !== B || dim(dy.shape, 1) !== OH || dim(dy.shape, 2) !== OW || dim(dy.shape, 3) !== Co) {
    throw new Error(`Conv2DBackpropFilter: dy shape [${dy.shape.join(',')}] does not match [${info.outShape.join(',')}]`);
  }
  const filterShape = [KH, KW, Ci, Co];
  const K = KH * KW * Ci;
  const pixels = OH * OW;
  if (K === 0 || Co === 0 || B * pixels === 0) {
    const out = backend.makeOutput(filterShape, 'float32');
    f32(backend, out).fill(0);
    return out;
  }
  if (forcedRoute === 'conv' || (forcedRoute === 'auto' && preferConv(info))) {
    return viaConv(backend, x, dy, info);
  }
  return viaIm2col(backend, x, dy, info);
}

/**
 * im2col + matmul, in batch chunks: cols^T [K, P] (K = KH*KW*Ci, P = output pixels of the chunk, built
 * in JS straight into the wasm heap), dW [K, Co] = cols^T @ dy [P, Co], which is dW's own memory order:
 * no transposes. (The other orientation, cols [P, K] with dW^T = dy^T @ cols plus two transposes, measured
 * slower.)
 */
function viaIm2col(backend: WasmBackendLike, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sH, strideWidth: sW } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const K = KH * KW * Ci;
  const pixels = OH * OW;
  const chunk = Math.max(1, Math.min(B, Math.floor(maxColsElements / (K * pixels))));

  let acc: tf.TensorInfo | null = null; // dW [1, K, Co], summed over chunks
  try {
    for (let b0 = 0; b0 < B; b0 += chunk) {
      const nb = Math.min(chunk, B - b0);
      const P = nb * pixels;
      const cols = backend.makeOutput([1, K, P], 'float32');
      let dyPart: tf.TensorInfo | null = null;
      let part: tf.TensorInfo | null = null;
      try {
        if (nb !== B) {
          dyPart = backend.makeOutput([1, P, Co], 'float32');
          f32(backend, dyPart).set(f32(backend, dy).subarray(b0 * pixels * Co, (b0 + nb) * pixels * Co));
        }
        // Views taken after the last allocation of this phase.
        fillColsT(f32(backend, x), f32(backend, cols), b0, nb, H, W, Ci, OH, OW, KH, KW, sH, sW, padTop, padLeft);
        part = callWasmKernel('BatchMatMul', { a: cols, b: dyPart ?? viewAs(dy, [1, P, Co]) }, backend, {
          transposeA: false,
          transposeB: false,
        });
        if (acc == null) {
          acc = part;
          part = null;
        } else {
          const sum = f32(backend, acc);
          const add = f32(backend, part);
          for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (add[i] as number);
        }
      } finally {
        dispose(backend, cols, dyPart, part);
      }
    }
    if (acc == null) throw new Error('unreachable');
    const out = acc;
    acc = null;
    return { dataId: out.dataId, shape: [KH, KW, Ci, Co], dtype: 'float32' };
  } finally {
    dispose(backend, acc);
  }
}

/** cols^T[(kh, kw, ci), p] for the nb images from b0; p runs over (b, oh, ow). */
function fillColsT(
  xs: Float32Array,
  cs: Float32Array,
  b0: number,
  nb: number,
  H: number,
  W: number,
  Ci: number,
  OH: number,
  OW: number,
  KH: number,
  KW: number,
  sH: number,
  sW: number,
  padTop: number,
  padLeft: number,
): void {
  const step = sW * Ci;
  let o = 0;
  for (let kh = 0; kh < KH; kh++) {
    // Output rows whose input row (oh*sH + kh - padTop) lies inside the image.
    const ohLo = Math.min(OH, Math.max(0, Math.ceil((padTop - kh) / sH)));
    const ohHi = Math.max(ohLo, Math.min(OH, Math.floor((H - 1 + padTop - kh) / sH) + 1));
    for (let kw = 0; kw < KW; kw++) {
      const owLo = Math.min(OW, Math.max(0, Math.ceil((padLeft - kw) / sW)));
      const owHi = Math.max(owLo, Math.min(OW, Math.floor((W - 1 + padLeft - kw) / sW) + 1));
      for (let ci = 0; ci < Ci; ci++) {
        for (let b = b0; b < b0 + nb; b++) {
          if (ohLo > 0) {
            cs.fill(0, o, o + ohLo * OW);
            o += ohLo * OW;
          }
          for (let oh = ohLo; oh < ohHi; oh++) {
            const ih = oh * sH + kh - padTop;
            let ow = 0;
            for (; ow < owLo; ow++) cs[o++] = 0;
            let src = ((b * H + ih) * W + owLo * sW + kw - padLeft) * Ci + ci;
            const stop = o + (owHi - owLo);
            while (o < stop) {
              cs[o++] = xs[src] as number;
              src += step;
            }
            for (ow = owHi; ow < OW; ow++) cs[o++] = 0;
          }
          if (ohHi < OH) {
            cs.fill(0, o, o + (OH - ohHi) * OW);
            o += (OH - ohHi) * OW;
          }
        }
      }
    }
  }
}

/**
 * Measured on tfjs-backend-wasm 4.22 with fresh tensors on every call, as in training (batch 64, MNIST-
 * and CIFAR-sized layers; XNNPACK repacks its "weights" operand, dy in both routes, for every new
 * tensor, a large part of the cost): im2col wins clearly when the input has few channels (its JS
 * gather reads runs of output columns; the conv route's GEMM has only Ci*KH*KW rows then), the conv
 * route wins modestly for wider inputs with Co <= KH*KW*Ci. The conv
 * route's indirection buffer (KH*KW*Ci * OH*OW pointers) is not chunked, so large ones go to im2col.
 */
function preferConv(info: tf.backend_util.Conv2DInfo): boolean {
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const indirection = K * info.outHeight * info.outWidth;
  return info.inChannels >= 8 && info.outChannels <= K && indirection <= maxColsElements;
}

/**
 * The filter gradient as a convolution: x with batch and channel axes swapped, [Ci, H, W, B],
 * correlated with dy as the filter, [OH, OW, B, Co], the forward strides becoming dilations:
 *   out[ci, kh, kw, co] = sum over (oh, ow, b) of x'[ci, kh + oh*sH - padTop, kw + ow*sW - padLeft, b] * dy'[oh, ow, b, co]
 * then [Ci, KH, KW, Co] -> [KH, KW, Ci, Co]. Rows/columns of x that no window reaches are cropped
 * first (they would need negative padding).
 */
function viaConv(backend: WasmBackendLike, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sH, strideWidth: sW } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Output height of the correlation is H + top + bottom - (OH-1)*sH; it must equal KH.
  let bottom = KH + (OH - 1) * sH - H - top;
  let right = KW + (OW - 1) * sW - W - left;
  const usedH = bottom < 0 ? H + bottom : H;
  const usedW = right < 0 ? W + right : W;
  bottom = Math.max(0, bottom);
  right = Math.max(0, right);
  let cropped: tf.TensorInfo | null = null;
  let xT: tf.TensorInfo | null = null;
  let dyT: tf.TensorInfo | null = null;
  let out: tf.TensorInfo | null = null;
  try {
    if (usedH !== H || usedW !== W) {
      cropped = callWasmKernel('Slice', { x }, backend, { begin: [0, 0, 0, 0], size: [B, usedH, usedW, Ci] });
    }
    xT = callWasmKernel('Transpose', { x: cropped ?? x }, backend, { perm: [3, 1, 2, 0] });
    dyT = callWasmKernel('Transpose', { x: dy }, backend, { perm: [1, 2, 0, 3] });
    out = callWasmKernel('Conv2D', { x: xT, filter: dyT }, backend, {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [sH, sW],
    });
    if (dim(out.shape, 0) !== Ci || dim(out.shape, 1) !== KH || dim(out.shape, 2) !== KW || dim(out.shape, 3) !== Co) {
      throw new Error(`Conv2DBackpropFilter: internal conv gave [${out.shape.join(',')}]`);
    }
    return callWasmKernel('Transpose', { x: out }, backend, { perm: [1, 2, 0, 3] });
  } finally {
    dispose(backend, cropped, xT, dyT, out);
  }
}

export function conv2DBackpropFilterConfig(): tf.KernelConfig {
  return { kernelName: CONV2D_BACKPROP_FILTER, backendName: WASM, kernelFunc: conv2DBackpropFilter };
}
