/**
 * Conv2DBackpropInput for 'wasm' (the stock kernel is a slow direct loop).
 *
 *   dx[b, ih, iw, ci] = sum over (kh, kw, co) of dy[b, oh, ow, co] * W[kh, kw, ci, co],  ih = oh*sH + kh - padTop
 *
 * is a full correlation of dy, dilated by the stride (stride - 1 zeros between its pixels; nothing to
 * do for stride 1), with the filter flipped in space and with its in/out channels swapped:
 *
 *   dx = conv2d(dilate(dy), W'[kh, kw, co, ci] = W[KH-1-kh, KW-1-kw, ci, co], stride 1,
 *               explicit padding top = KH-1-padTop, bottom = IH-1+KH-L-top  (L = (OH-1)*sH + 1), same for width)
 *
 * run on the stock XNNPACK-backed wasm Conv2D. Paddings that would come out negative (only possible
 * with unusual explicit/numeric padding) and NCHW fall back to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, callWasmKernel, dim, dispose, f32, WASM } from './wasm-internals.js';

export const CONV2D_BACKPROP_INPUT = 'Conv2DBackpropInput';

let stock: tf.KernelConfig | null = null;

export function captureStockConv2DBackpropInput(current: tf.KernelConfig | undefined): void {
  if (current != null && current.kernelFunc !== conv2DBackpropInput) stock = current;
}

function fallback(args: Parameters<tf.KernelFunc>[0], why: string): tf.TensorInfo | tf.TensorInfo[] {
  if (stock == null) throw new Error(`wasm Conv2DBackpropInput: ${why}, and no stock kernel to fall back to`);
  return stock.kernelFunc(args);
}

function conv2DBackpropInput(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | tf.TensorInfo[] {
  const backend = asWasm(args.backend);
  const dy = args.inputs['dy'];
  const filter = args.inputs['filter'];
  if (dy == null || filter == null) throw new Error('Conv2DBackpropInput needs inputs dy and filter');
  const attrs = (args.attrs ?? {}) as unknown as tf.Conv2DBackpropInputAttrs;
  if (attrs.dataFormat === 'NCHW') return fallback(args, 'NCHW');
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') return fallback(args, 'not float32');
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize: B, inHeight: IH, inWidth: IW, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sH, strideWidth: sW } = info;
  if (dim(dy.shape, 0) !== B || dim(dy.shape, 1) !== OH || dim(dy.shape, 2) !== OW || dim(dy.shape, 3) !== Co) {
    throw new Error(`Conv2DBackpropInput: dy shape [${dy.shape.join(',')}] does not match [${info.outShape.join(',')}]`);
  }
  const LH = (OH - 1) * sH + 1;
  const LW = (OW - 1) * sW + 1;
  const top = KH - 1 - info.padInfo.top;
  const left = KW - 1 - info.padInfo.left;
  const bottom = IH - 1 + KH - LH - top;
  const right = IW - 1 + KW - LW - left;
  if (top < 0 || left < 0 || bottom < 0 || right < 0 || B * OH * OW * Co * Ci === 0) {
    return fallback(args, 'padding out of range for the correlation route');
  }

  // Flipped, channel-swapped filter W'[kh, kw, co, ci].
  const flipped = backend.makeOutput([KH, KW, Co, Ci], 'float32');
  let dilated: tf.TensorInfo | null = null;
  try {
    if (sH > 1 || sW > 1) dilated = backend.makeOutput([B, LH, LW, Co], 'float32');
    const w = f32(backend, filter);
    const wf = f32(backend, flipped);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const src0 = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * Ci * Co;
        const dst0 = (kh * KW + kw) * Co * Ci;
        for (let ci = 0; ci < Ci; ci++) {
          const s = src0 + ci * Co;
          for (let co = 0; co < Co; co++) wf[dst0 + co * Ci + ci] = w[s + co] as number;
        }
      }
    }
    if (dilated != null) {
      const d = f32(backend, dilated);
      const g = f32(backend, dy);
      d.fill(0);
      for (let b = 0; b < B; b++) {
        for (let oh = 0; oh < OH; oh++) {
          const srcRow = (b * OH + oh) * OW * Co;
          const dstRow = (b * LH + oh * sH) * LW * Co;
          for (let ow = 0; ow < OW; ow++) {
            d.set(g.subarray(srcRow + ow * Co, srcRow + (ow + 1) * Co), dstRow + ow * sW * Co);
          }
        }
      }
    }
    const out = callWasmKernel('Conv2D', { x: dilated ?? dy, filter: flipped }, backend, {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [1, 1],
    });
    return out;
  } finally {
    dispose(backend, flipped, dilated);
  }
}

export function conv2DBackpropInputConfig(): tf.KernelConfig {
  return { kernelName: CONV2D_BACKPROP_INPUT, backendName: WASM, kernelFunc: conv2DBackpropInput };
}
