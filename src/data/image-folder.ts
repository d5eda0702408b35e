/**
 * Image folders: `DIR/train/<class>/*` with an optional `DIR/test/<class>/*`, or `DIR/<class>/*`
 * with no split. Class names are the sorted folder names of the training part. Every non-hidden
 * file of a class folder must be an image sharp decodes (PNG, JPEG, and also WebP, GIF, TIFF); any
 * other file is an error naming it. Alpha is dropped.
 *
 * With a target input shape [h, w, c] (a model's), every image is resized to h x w with sharp's
 * `fit: 'fill'` (both sides scaled independently, aspect ratio not kept, no cropping: what
 * torchvision's `Resize((h, w))` does; the kernel is sharp's default lanczos3, where torchvision's
 * default is bilinear, so values differ slightly) and must have the model's channels: a grey image for a
 * 3-channel model, or a colour one for a 1-channel model, is an error naming the file. Without a
 * target, all images must have the same size, and the set has 1 channel when every image is grey
 * (stored grey, or R = G = B at every pixel), else 3 (grey images then repeat their value in R, G, B).
 *
 * Decoding runs a few sharp pipelines at a time (`DECODE_CONCURRENCY`) and asks for raw 8-bit sRGB
 * pixels (one sharp call per image; two for a 3-channel target, which must tell grey files apart);
 * the only per-pixel JavaScript is the grey test and the conversion to float.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type Sharp from 'sharp';
import type { InputShape, LabeledSet } from '../core/data-types.js';
import { dataError, ModeError } from '../core/errors.js';
import { PIXEL_SCALE } from './idx.js';

export interface ImageFolderData {
  train: LabeledSet;
  test: LabeledSet | null;
  classNames: string[];
  /** Each row's file, relative to the folder (`train/cat/a.png`, `cat/a.png`), in row order. */
  files: { train: string[]; test: string[] | null };
}

export interface ImageLoadOptions {
  /** Resize every image to [height, width] and require `channels` (a model's input shape). */
  inputShape?: InputShape;
}

/** One decoded image: 8-bit RGB pixels, channels last (sharp writes sRGB: a grey image has R = G = B). */
export interface DecodedImage {
  /** The path as given. */
  readonly file: string;
  readonly width: number;
  readonly height: number;
  /** True when every pixel is grey (R = G = B), as every pixel of a grey file is. */
  readonly grey: boolean;
  /** True when the file itself is grey (one colour channel, maybe with alpha); read only for 3-channel targets, else null. */
  readonly storedGrey: boolean | null;
  /** width * height * 3 bytes. */
  readonly pixels: Uint8Array;
}

/** Pipelines in flight at once: enough to keep libvips' threads and the file reads busy on a few cores. */
const DECODE_CONCURRENCY = 8;

const isDirectory = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** Sub-folders of a folder, sorted (plain code-unit order, the same on every platform). */
export function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
}

/** Non-hidden files of a folder, sorted; hidden ones (`.DS_Store`) are skipped. */
export function folderFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
}

const firstLine = (error: unknown): string => String((error as Error).message).split('\n')[0] ?? '';

function isGreyRgb(rgb: Uint8Array): boolean {
  for (let i = 0; i < rgb.length; i += 3) {
    if (rgb[i] !== rgb[i + 1] || rgb[i] !== rgb[i + 2]) return false;
  }
  return true;
}

/**
 * Decodes one image to 8-bit RGB pixels, resized to `size` when given. The file's own channel count
 * (one more sharp call) is read only when `storedChannels` asks. `spec` starts error messages.
 */
async function decodeImage(
  spec: string,
  file: string,
  size: readonly [number, number] | null,
  storedChannels: boolean,
): Promise<DecodedImage> {
  const fail = (reason: string): never => {
    throw dataError(`${spec}: ${file} is not an image sharp can decode (${reason}); expected PNG or JPEG: remove the file or re-export it`);
  };
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw dataError(`${spec}: cannot read ${file} (${firstLine(error)}); check its permissions`);
  }
  try {
    // sharp loads at first use, not with every `mode` command (0.1 s).
    const sharp: typeof Sharp = (await import('sharp')).default;
    const image = sharp(bytes);
    let storedGrey: boolean | null = null;
    if (storedChannels) {
      const meta = await image.metadata();
      storedGrey = (meta.channels ?? 3) - (meta.hasAlpha === true ? 1 : 0) === 1;
    }
    let pipeline = image.removeAlpha();
    if (size !== null) pipeline = pipeline.resize(size[1], size[0], { fit: 'fill' });
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) fail(`${info.channels} channels after dropping alpha, expected 3 (sRGB)`);
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { file, width: info.width, height: info.height, grey: isGreyRgb(pixels), storedGrey, pixels };
  } catch (error) {
    if (error instanceof ModeError) throw error;
    return fail(firstLine(error));
  }
}

/**
 * Decodes files with a few pipelines in flight, keeping their order. With a target shape each image
 * is resized to it and its channels are checked against the target's.
 */
export async function decodeImages(spec: string, files: readonly string[], inputShape: InputShape | null): Promise<DecodedImage[]> {
  const out: DecodedImage[] = new Array<DecodedImage>(files.length);
  const size = inputShape === null ? null : ([inputShape[0], inputShape[1]] as const);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      try {
        const image = await decodeImage(spec, files[i] ?? '', size, inputShape?.[2] === 3);
        if (inputShape !== null) checkChannels(spec, image, inputShape);
        out[i] = image;
      } catch (error) {
        next = files.length; // the other workers stop after their current file
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DECODE_CONCURRENCY, files.length) }, worker));
  return out;
}

function checkChannels(spec: string, image: DecodedImage, inputShape: InputShape): void {
  const wanted = inputShape[2];
  if (wanted === 3 && image.storedGrey === true) {
    throw dataError(
      `${spec}: ${image.file} is a grey image (1 channel) but the model takes 3 channels (RGB, input [${inputShape.join(', ')}]); ` +
        `convert the image to RGB, or use a model that takes 1 channel`,
    );
  }
  if (wanted === 1 && !image.grey) {
    throw dataError(
      `${spec}: ${image.file} is a colour image (RGB) but the model takes 1 channel (grey, input [${inputShape.join(', ')}]); ` +
        `convert the image to greyscale, or use a model that takes 3 channels`,
    );
  }
  if (wanted !== 1 && wanted !== 3) {
    throw dataError(`${spec}: the model takes ${wanted} channels (input [${inputShape.join(', ')}]); images have 1 (grey) or 3 (RGB)`);
  }
}

/**
 * The input shape of decoded images: the target's, or without one the common size (all must
 * match) and 1 channel when every image is grey, else 3.
 */
export function decodedShape(spec: string, images: readonly DecodedImage[], inputShape: InputShape | null): InputShape {
  if (inputShape !== null) return inputShape;
  const first = images[0];
  if (first === undefined) throw dataError(`${spec}: no images found`);
  for (const image of images) {
    if (image.width !== first.width || image.height !== first.height) {
      throw dataError(
        `${spec}: ${image.file} is ${image.width}x${image.height} but ${first.file} is ${first.width}x${first.height}; ` +
          `all images must have the same size: resize them first, or use them with a model, which resizes them to its input`,
      );
    }
  }
  return [first.height, first.width, images.every((image) => image.grey) ? 1 : 3];
}

/** Decoded images as channels-last floats in [0, 1]; a 1-channel set takes R (= G = B). */
export function toFloats(images: readonly DecodedImage[], shape: InputShape): Float32Array {
  const [height, width, channels] = shape;
  const values = height * width * channels;
  const x = new Float32Array(images.length * values);
  images.forEach((image, n) => {
    const offset = n * values;
    const src = image.pixels;
    if (channels === 3) {
      for (let i = 0; i < values; i++) x[offset + i] = (src[i] ?? 0) * PIXEL_SCALE;
    } else {
      for (let p = 0; p < values; p++) x[offset + p] = (src[p * 3] ?? 0) * PIXEL_SCALE;
    }
  });
  return x;
}

/** Loads an image folder (see the module comment for the layouts). */
export async function loadImageFolder(dir: string, options: ImageLoadOptions = {}): Promise<ImageFolderData> {
  const spec = `images:${dir}`;
  if (!isDirectory(dir)) {
    throw dataError(`${spec}: folder '${dir}' does not exist; expected DIR/train/<class>/*.png or DIR/<class>/*.png`);
  }
  const split = isDirectory(path.join(dir, 'train'));
  const trainDir = split ? path.join(dir, 'train') : dir;
  const testDir = split && isDirectory(path.join(dir, 'test')) ? path.join(dir, 'test') : null;

  const classNames = subfolders(trainDir);
  if (classNames.length < 2) {
    throw dataError(
      `${spec}: found ${classNames.length} class folder${classNames.length === 1 ? '' : 's'} in '${trainDir}' ` +
        `(${classNames.join(', ') || 'none'}); expected at least 2, one folder of images per class`,
    );
  }
  const train = listClasses(spec, dir, trainDir, classNames, classNames);
  let test: ListedFiles | null = null;
  if (testDir !== null) {
    const testClasses = subfolders(testDir);
    const unknown = testClasses.filter((name) => !classNames.includes(name));
    if (unknown.length > 0) {
      throw dataError(
        `${spec}: test class folder${unknown.length === 1 ? '' : 's'} ${unknown.map((u) => `'${u}'`).join(', ')} in '${testDir}' ` +
          `ha${unknown.length === 1 ? 's' : 've'} no training folder; expected test classes among [${classNames.join(', ')}]: rename ` +
          `or remove ${unknown.length === 1 ? 'it' : 'them'}`,
      );
    }
    test = listClasses(spec, dir, testDir, testClasses, classNames);
  }

  const target = options.inputShape ?? null;
  const trainImages = await decodeImages(spec, train.paths, target);
  const testImages = test === null ? null : await decodeImages(spec, test.paths, target);
  const shape = decodedShape(spec, testImages === null ? trainImages : trainImages.concat(testImages), target);
  const numClasses = classNames.length;
  const set = (images: DecodedImage[], labels: number[]): LabeledSet => ({
    x: toFloats(images, shape),
    y: Int32Array.from(labels),
    count: images.length,
    inputShape: shape,
    numClasses,
  });
  return {
    train: set(trainImages, train.labels),
    test: test === null || testImages === null ? null : set(testImages, test.labels),
    classNames,
    files: { train: train.relative, test: test?.relative ?? null },
  };
}

export interface ListedFiles {
  /** Paths to read (the folder joined with each file). */
  paths: string[];
  /** The same, relative to the dataset folder, with '/' separators. */
  relative: string[];
  labels: number[];
}

/** Lists the files of the given class folders; labels index `allClasses`. */
export function listClasses(
  spec: string,
  root: string,
  dir: string,
  classes: readonly string[],
  allClasses: readonly string[],
): ListedFiles {
  const listed: ListedFiles = { paths: [], relative: [], labels: [] };
  for (const name of classes) {
    const classDir = path.join(dir, name);
    const files = folderFiles(classDir);
    if (files.length === 0) {
      throw dataError(`${spec}: class folder '${classDir}' has no files; expected images (PNG or JPEG): add images or remove the folder`);
    }
    const label = allClasses.indexOf(name);
    for (const fileName of files) {
      const file = path.join(classDir, fileName);
      listed.paths.push(file);
      listed.relative.push(path.relative(root, file).split(path.sep).join('/'));
      listed.labels.push(label);
    }
  }
  return listed;
}
