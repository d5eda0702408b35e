/**
 * IDX files (the format of MNIST and Fashion-MNIST): a 4-byte magic (two zero bytes, an element type,
 * the number of dimensions), one big-endian uint32 per dimension, then the elements. Only unsigned
 * bytes (type 0x08) are read, which is what image datasets use. Files may be raw or gzipped (detected
 * by the gzip magic bytes 1f 8b, not by the name).
 *
 * Every check names the file, what was found, what was expected and how to fix it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { InputShape, LabeledSet } from '../core/data-types.js';
import { dataError, usageError } from '../core/errors.js';

/** Element type byte of unsigned-byte IDX data. */
const IDX_UNSIGNED_BYTE = 0x08;

/** Names of the IDX element types, for error messages. */
const IDX_TYPE_NAMES: Readonly<Record<number, string>> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** Scale from uint8 pixels to [0, 1]. */
export const PIXEL_SCALE = 1 / 255;

/** A parsed IDX file: its dimensions and its bytes (row-major, last dimension fastest). */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/** Images read from an IDX file: count x height x width x channels bytes. */
export interface IdxImages {
  readonly count: number;
  readonly inputShape: InputShape;
  readonly pixels: Uint8Array;
}

export interface LoadIdxPairOptions {
  /** Number of classes; default max label + 1, but at least 2. */
  numClasses?: number;
}

const describeDims = (dims: readonly number[]): string => dims.join('x');

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

/** Reads a file and gunzips it when it starts with the gzip magic bytes. */
function readMaybeGzip(file: string): { bytes: Uint8Array; gzipped: boolean } {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : String((error as Error).message);
    throw dataError(`${file}: cannot read IDX file (${reason}); check the path`);
  }
  if (!isGzip(raw)) return { bytes: raw, gzipped: false };
  try {
    return { bytes: gunzipSync(raw), gzipped: true };
  } catch (error) {
    throw dataError(`${file}: corrupt gzip data (${(error as Error).message}); re-download the file or gunzip it by hand to check it`);
  }
}

/**
 * Parses IDX bytes (already gunzipped). `file` names the source in error messages. Checks the magic,
 * the element type (unsigned byte only) and that the length is exactly header + product of dims.
 */
function parseIdx(bytes: Uint8Array, file: string, gzipped = false): IdxArray {
  const after = gzipped ? ' after gunzip' : '';
  if (bytes.length < 4) {
    throw dataError(
      `${file}: not an IDX file: it has ${bytes.length} bytes${after}, fewer than the 4-byte IDX header; re-download or re-extract it`,
    );
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw dataError(
      `${file}: not an IDX file: it starts with bytes ${hex(bytes.subarray(0, 4))} but an IDX file starts with 00 00 08 <dimensions>; ` +
        `check the path, or re-download or re-extract the file`,
    );
  }
  const type = bytes[2] ?? 0;
  if (type !== IDX_UNSIGNED_BYTE) {
    const name = IDX_TYPE_NAMES[type];
    throw dataError(
      `${file}: unsupported IDX element type ` +
        `0x${type.toString(16).padStart(2, '0')}${name === undefined ? ' (not a valid IDX type)' : ` (${name})`}; ` +
        `expected 0x08 (unsigned byte), as image datasets use: convert the data to unsigned bytes`,
    );
  }
  const ndim = bytes[3] ?? 0;
  if (ndim === 0) {
    throw dataError(`${file}: bad IDX header: it declares 0 dimensions, expected at least 1; re-download or re-extract it`);
  }
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw dataError(
      `${file}: truncated IDX file: the header declares ${ndim} dimensions (${headerBytes} header bytes) but the file has ` +
        `${bytes.length} bytes${after}; re-download or re-extract it`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const dataBytes = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + dataBytes;
  if (bytes.length < expected) {
    throw dataError(
      `${file}: truncated IDX file: header says ${describeDims(dims)} (${expected} bytes) but the file has ${bytes.length} ` +
        `bytes${after}; re-download or re-extract it`,
    );
  }
  if (bytes.length > expected) {
    throw dataError(
      `${file}: IDX file too long: header says ${describeDims(dims)} (${expected} bytes) but the file has ${bytes.length} bytes${after} ` +
        `(${bytes.length - expected} extra); the file is corrupt or not what its header says: re-download or re-extract it`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Reads an IDX file, raw or gzipped. */
export function readIdx(file: string): IdxArray {
  const { bytes, gzipped } = readMaybeGzip(file);
  return parseIdx(bytes, file, gzipped);
}

/** Reads an IDX images file: 3-D (count, height, width) or 4-D (count, height, width, channels). */
export function readIdxImages(file: string): IdxImages {
  const { dims, data } = readIdx(file);
  if (dims.length !== 3 && dims.length !== 4) {
    const hint = dims.length === 1 ? ' (is this a labels file?)' : '';
    throw dataError(
      `${file}: expected an IDX images file with 3 dimensions (count x height x width) or 4 (count x height x width x channels), ` +
        `found ${dims.length} (${describeDims(dims)})${hint}; check the path`,
    );
  }
  const [count = 0, height = 0, width = 0, channels = 1] = dims;
  if (height === 0 || width === 0 || channels === 0) {
    throw dataError(
      `${file}: IDX images have an empty dimension (${describeDims(dims)}); ` +
        `expected height, width and channels of at least 1; re-create the file`,
    );
  }
  return { count, inputShape: [height, width, channels], pixels: data };
}

/** Reads an IDX labels file: 1-D (count). */
export function readIdxLabels(file: string): Uint8Array {
  const { dims, data } = readIdx(file);
  if (dims.length !== 1) {
    const hint = dims.length >= 3 ? ' (is this an images file?)' : '';
    throw dataError(
      `${file}: expected an IDX labels file with 1 dimension (count), found ${dims.length} (${describeDims(dims)})${hint}; check the path`,
    );
  }
  return data;
}

/** The largest label, or -1 for no labels. */
export function maxLabel(labels: ArrayLike<number>): number {
  let max = -1;
  for (let i = 0; i < labels.length; i++) if ((labels[i] ?? 0) > max) max = labels[i] ?? 0;
  return max;
}

/** Default number of classes for a set of labels: max label + 1, but at least 2. */
export const defaultNumClasses = (labels: ArrayLike<number>): number => Math.max(2, maxLabel(labels) + 1);

/** Checks that every label is in [0, numClasses); `file` names the labels in the message. */
export function checkLabelRange(labels: ArrayLike<number>, numClasses: number, file: string): void {
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] ?? 0;
    if (label < 0 || label >= numClasses) {
      throw dataError(
        `${file}: label ${label} at index ${i} is outside the class range [0, ${numClasses}); ` +
          `fix the labels or raise the number of classes`,
      );
    }
  }
}

/** A labelled set from uint8 images and labels that are already known to match (pixels scaled by 1/255). */
export function toLabeledSet(images: IdxImages, labels: ArrayLike<number>, numClasses: number): LabeledSet {
  const x = new Float32Array(images.pixels.length);
  for (let i = 0; i < x.length; i++) x[i] = (images.pixels[i] ?? 0) * PIXEL_SCALE;
  return { x, y: Int32Array.from(labels), count: images.count, inputShape: images.inputShape, numClasses };
}

export function checkNumClasses(numClasses: number, what: string): void {
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw usageError(`${what}: numClasses must be an integer of at least 2, got ${numClasses}`);
  }
}

/**
 * Loads an IDX images file and its labels file as a LabeledSet: the counts must match and every label
 * must be in [0, numClasses).
 */
export function loadIdxPair(imagesPath: string, labelsPath: string, options: LoadIdxPairOptions = {}): LabeledSet {
  if (options.numClasses !== undefined) checkNumClasses(options.numClasses, labelsPath);
  const images = readIdxImages(imagesPath);
  const labels = readIdxLabels(labelsPath);
  checkPairCounts(images, imagesPath, labels, labelsPath);
  const numClasses = options.numClasses ?? defaultNumClasses(labels);
  checkLabelRange(labels, numClasses, labelsPath);
  return toLabeledSet(images, labels, numClasses);
}

export function checkPairCounts(images: IdxImages, imagesPath: string, labels: ArrayLike<number>, labelsPath: string): void {
  if (images.count !== labels.length) {
    throw dataError(
      `${labelsPath}: ${labels.length} labels but ${imagesPath} has ${images.count} images; ` +
        `expected one label per image: check that the two files belong together`,
    );
  }
}

/**
 * Writes unsigned-byte IDX data; gzipped when the path ends in `.gz`. `bytes.length` must equal the
 * product of `dims`.
 */
export function writeIdx(file: string, dims: readonly number[], bytes: Uint8Array): void {
  if (dims.length < 1 || dims.length > 255) {
    throw usageError(`writeIdx ${file}: IDX needs 1 to 255 dimensions, got ${dims.length}`);
  }
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) {
      throw usageError(`writeIdx ${file}: dimensions must be integers in [0, 2^32), got ${describeDims(dims)}`);
    }
  }
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== bytes.length) {
    throw usageError(`writeIdx ${file}: dimensions ${describeDims(dims)} need ${size} bytes but ${bytes.length} were given`);
  }
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = IDX_UNSIGNED_BYTE;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  const whole = Buffer.concat([header, bytes]);
  writeFileSync(file, file.endsWith('.gz') ? gzipSync(whole) : whole);
}
