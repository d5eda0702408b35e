/**
 * NumPy arrays: `.npy` files (parsed with npyjs, then checked here: npyjs trusts the header) and
 * `.npz` archives (a zip of `.npy` entries, stored or deflated, unpacked with fflate).
 *
 * Images `x` may be [N, H, W] (grey), [N, H, W, C] or [N, C, H, W] with C 1 or 3. The layout is
 * chosen by the axes: channels last when the last axis is 1 or 3, else channels first when axis 1
 * is 1 or 3 (then transposed to channels last), else an error. dtype uint8 is scaled by 1/255;
 * float32 and float64 are taken as given, as already in unit scale (a `mean/std` normalisation is
 * then applied to them as to scaled pixels). Labels `y` are integers of shape [N] (or [N, 1]).
 */
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { parse as parseNpyBuffer, type NpyArray } from 'npyjs';
import type { InputShape } from '../core/data-types.js';
import { dataError } from '../core/errors.js';
import { PIXEL_SCALE } from './idx.js';

/** Bytes per element of each dtype code, as .npy headers write them (after the byte-order character). */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  u1: 1,
  i1: 1,
  u2: 2,
  i2: 2,
  u4: 4,
  i4: 4,
  u8: 8,
  i8: 8,
  f2: 2,
  f4: 4,
  f8: 8,
  b1: 1,
};
const INTEGER_DTYPES = new Set(['u1', 'i1', 'u2', 'i2', 'u4', 'i4', 'u8', 'i8']);
const IMAGE_DTYPES = new Set(['u1', 'f4', 'f8']);

const NPY_MAGIC = '\x93NUMPY';

export interface NumpyArray {
  readonly shape: readonly number[];
  /** The dtype code without byte order: u1, f4, i8, ... */
  readonly dtype: string;
  readonly data: ArrayLike<number | bigint>;
}

const firstLine = (error: unknown): string => String((error as Error).message).split('\n')[0] ?? '';

/** Parses .npy bytes; `name` (a file, or `file.npz:x.npy`) starts error messages. */
export function parseNpy(bytes: Uint8Array, name: string): NumpyArray {
  const magic = String.fromCharCode(...bytes.subarray(0, 6));
  if (bytes.length < 10 || magic !== NPY_MAGIC) {
    throw dataError(`${name}: not a .npy file (it does not start with \\x93NUMPY); save it with numpy.save, or check the path`);
  }
  // Format 1.0: a 2-byte header length at 8; 2.0 and 3.0: 4 bytes.
  const long = (bytes[6] ?? 0) > 1;
  const headerEnd = long
    ? 12 + (bytes[8] ?? 0) + 256 * (bytes[9] ?? 0) + 65536 * (bytes[10] ?? 0) + 16777216 * (bytes[11] ?? 0)
    : 10 + (bytes[8] ?? 0) + 256 * (bytes[9] ?? 0);
  if (bytes.length < headerEnd) throw dataError(`${name}: truncated .npy file: it ends inside its header; re-save or re-copy it`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(0, headerEnd));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1] ?? '';
  const order = descr[0] ?? '';
  const code = descr.slice(1);
  const size = DTYPE_BYTES[code];
  if (size === undefined || (order === '>' && size > 1)) {
    throw dataError(
      `${name}: unsupported dtype '${descr}'; expected little-endian uint8, float32 or float64 images and integer labels: ` +
        `convert with numpy's astype`,
    );
  }
  if (/'fortran_order'\s*:\s*True/.test(header)) {
    throw dataError(`${name}: the array is stored in Fortran order; save numpy.ascontiguousarray(a) instead`);
  }
  const shape = (/'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  const expected = headerEnd + shape.reduce((a, b) => a * b, 1) * size;
  if (bytes.length !== expected) {
    throw dataError(
      `${name}: ${bytes.length < expected ? 'truncated' : 'corrupt'} .npy file: its header says ${code} [${shape.join(', ')}] ` +
        `(${expected} bytes) but it has ${bytes.length}; re-save or re-copy it`,
    );
  }
  // npyjs needs an ArrayBuffer of its own (typed views over it must be aligned, and a Node Buffer shares
  // a pooled one): copy the bytes.
  let parsed: NpyArray;
  try {
    parsed = parseNpyBuffer(new Uint8Array(bytes).buffer);
  } catch (error) {
    throw dataError(`${name}: cannot parse .npy file (${firstLine(error)}); re-save it with numpy.save`);
  }
  return { shape, dtype: code, data: parsed.data as unknown as ArrayLike<number | bigint> };
}

function readBytes(file: string, what: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : firstLine(error);
    throw dataError(`${file}: cannot read ${what} (${reason}); check the path`);
  }
}

export const readNpyFile = (file: string): NumpyArray => parseNpy(readBytes(file, '.npy file'), file);

/** The arrays of an .npz archive by name (without `.npy`). */
export function readNpzFile(file: string): Map<string, NumpyArray> {
  const bytes = readBytes(file, '.npz file');
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (error) {
    throw dataError(`${file}: not a readable .npz (zip) archive (${firstLine(error)}); save it with numpy.savez, or re-copy it`);
  }
  const arrays = new Map<string, NumpyArray>();
  for (const [entry, data] of Object.entries(entries)) {
    if (!entry.endsWith('.npy')) continue;
    arrays.set(entry.slice(0, -4), parseNpy(data, `${file}:${entry}`));
  }
  return arrays;
}

/** Images from an array: channels-last floats, unit-scaled when uint8 (see the module comment for layouts). */
export function imagesFromArray(array: NumpyArray, name: string): { x: Float32Array; count: number; inputShape: InputShape } {
  const { shape, dtype } = array;
  if (!IMAGE_DTYPES.has(dtype)) {
    throw dataError(`${name}: images of dtype ${dtype}; expected uint8 (pixels 0-255), float32 or float64: convert with astype`);
  }
  let layout: 'nhw' | 'nhwc' | 'nchw';
  if (shape.length === 3) layout = 'nhw';
  else if (shape.length === 4 && (shape[3] === 1 || shape[3] === 3)) layout = 'nhwc';
  else if (shape.length === 4 && (shape[1] === 1 || shape[1] === 3)) layout = 'nchw';
  else {
    throw dataError(`${name}: images of shape [${shape.join(', ')}]; expected [N, H, W], [N, H, W, C] or [N, C, H, W] with C 1 or 3`);
  }
  const [count = 0] = shape;
  const [height = 0, width = 0, channels = 1] =
    layout === 'nhw' ? [shape[1], shape[2], 1] : layout === 'nhwc' ? [shape[1], shape[2], shape[3]] : [shape[2], shape[3], shape[1]];
  if (count === 0) throw dataError(`${name}: holds no images (shape [${shape.join(', ')}])`);
  const scale = dtype === 'u1' ? PIXEL_SCALE : 1;
  const src = array.data as ArrayLike<number>;
  const x = new Float32Array(src.length);
  if (layout !== 'nchw' || channels === 1) {
    for (let i = 0; i < src.length; i++) x[i] = (src[i] ?? 0) * scale;
  } else {
    const plane = height * width;
    for (let n = 0; n < count; n++) {
      const base = n * plane * channels;
      for (let c = 0; c < channels; c++) {
        for (let p = 0; p < plane; p++) x[base + p * channels + c] = (src[base + c * plane + p] ?? 0) * scale;
      }
    }
  }
  return { x, count, inputShape: [height, width, channels] };
}

/** Labels from an integer array of shape [N] or [N, 1], checked against `count` images and >= 0. */
export function labelsFromArray(array: NumpyArray, name: string, count: number, imagesName: string): Int32Array {
  const { shape, dtype } = array;
  if (!INTEGER_DTYPES.has(dtype)) {
    throw dataError(`${name}: labels of dtype ${dtype}; expected integers (e.g. int64 or uint8): convert with astype(int)`);
  }
  if (shape.length !== 1 && !(shape.length === 2 && shape[1] === 1)) {
    throw dataError(`${name}: labels of shape [${shape.join(', ')}]; expected [N] (one integer label per image)`);
  }
  if (shape[0] !== count) {
    throw dataError(`${name}: ${shape[0]} labels but ${imagesName} holds ${count} images; both must have the same length N`);
  }
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = Number(array.data[i] ?? 0);
    if (v < 0 || v > 0x7fffffff) throw dataError(`${name}: label ${v} at index ${i}; labels must be integers >= 0 (class indices)`);
    y[i] = v;
  }
  return y;
}
