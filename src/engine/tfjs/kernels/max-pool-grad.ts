/**
 * MaxPoolGrad for 'wasm', in JS over the wasm heap.
 *
 * The stock kernel (tfjs-backend-wasm 4.22) is slow and wrong: each window's running max starts at
 * (smallest positive float, flat offset 0), so a window whose values are all <= 0 sends its gradient to
 * x[0] (kept only by the window holding x[0], dropped elsewhere), and it keeps the last maximum on ties
 * ('>='), where the cpu backend keeps the first. Here each output's gradient goes to the first
 * (row-major within the window) position holding the window's maximum, like the cpu backend; padded
 * positions never count; a window with nothing above -Infinity (or only NaN) passes nothing, also
 * like the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, dim, f32, WASM } from './wasm-internals.js';

export const MAX_POOL_GRAD = 'MaxPoolGrad';

function maxPoolGrad(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = asWasm(args.backend);
  const dy = args.inputs['dy'];
  const input = args.inputs['input'];
  if (dy == null || input == null) throw new Error('MaxPoolGrad needs inputs dy and input');
  if (dy.dtype !== 'float32' || input.dtype !== 'float32') throw new Error('wasm MaxPoolGrad supports float32 only');
  const attrs = (args.attrs ?? {}) as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: sH, strideWidth: sW, dilationHeight: dH, dilationWidth: dW } = info;
  const fH = info.effectiveFilterHeight;
  const fW = info.effectiveFilterWidth;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  if (dim(dy.shape, 0) !== B || dim(dy.shape, 1) !== OH || dim(dy.shape, 2) !== OW || dim(dy.shape, 3) !== C) {
    throw new Error(`MaxPoolGrad: dy shape [${dy.shape.join(',')}] does not match [${info.outShape.join(',')}]`);
  }

  const dx = backend.makeOutput(input.shape.slice(), 'float32');
  const xs = f32(backend, input);
  const g = f32(backend, dy);
  const d = f32(backend, dx);
  d.fill(0);
  const rowStride = W * C;
  const twoByTwo = fH === 2 && fW === 2 && dH === 1 && dW === 1;
  for (let b = 0; b < B; b++) {
    const xb = b * H * rowStride;
    for (let oh = 0; oh < OH; oh++) {
      const r0 = oh * sH - padTop;
      let rLo = r0;
      while (rLo < 0) rLo += dH;
      const rHi = Math.min(H, r0 + fH);
      for (let ow = 0; ow < OW; ow++) {
        const c0 = ow * sW - padLeft;
        let cLo = c0;
        while (cLo < 0) cLo += dW;
        const cHi = Math.min(W, c0 + fW);
        const o = ((b * OH + oh) * OW + ow) * C;
        if (twoByTwo && r0 >= 0 && r0 + 2 <= H && c0 >= 0 && c0 + 2 <= W) {
          // Whole 2x2 window inside the image (the common case): unrolled, same first-max order.
          const i00 = xb + r0 * rowStride + c0 * C;
          for (let ch = 0; ch < C; ch++) {
            const a = i00 + ch;
            const b1 = a + C;
            const c1 = a + rowStride;
            const d1 = c1 + C;
            let at = -1;
            let best = -Infinity;
            let v = xs[a] as number;
            if (v > best) {
              best = v;
              at = a;
            }
            v = xs[b1] as number;
            if (v > best) {
              best = v;
              at = b1;
            }
            v = xs[c1] as number;
            if (v > best) {
              best = v;
              at = c1;
            }
            v = xs[d1] as number;
            if (v > best) {
              best = v;
              at = d1;
            }
            // NaN or -Infinity everywhere: nothing exceeds -Infinity, the cpu backend passes nothing.
            if (at >= 0) d[at] = (d[at] as number) + (g[o + ch] as number);
          }
          continue;
        }
        for (let ch = 0; ch < C; ch++) {
          // Row-major scan with strict '>' keeps the first maximum, like the cpu backend.
          let best = -Infinity;
          let at = -1;
          for (let r = rLo; r < rHi; r += dH) {
            let i = xb + r * rowStride + cLo * C + ch;
            for (let c = cLo; c < cHi; c += dW) {
              const v = xs[i] as number;
              if (v > best) {
                best = v;
                at = i;
              }
              i += dW * C;
            }
          }
          if (at >= 0) d[at] = (d[at] as number) + (g[o + ch] as number);
        }
      }
    }
  }
  return dx;
}

export function maxPoolGradConfig(): tf.KernelConfig {
  return { kernelName: MAX_POOL_GRAD, backendName: WASM, kernelFunc: maxPoolGrad };
}
