/**
 * Image folders: `DIR/train/<class>/*.png` with an optional `DIR/test/<class>/*.png`, or
 * `DIR/<class>/*.png` with no split. Class names are the sorted folder names of the training part.
 * Images are decoded with pngjs; the set has 1 channel when every pixel of every image is grey
 * (R = G = B), else 3 (RGB). Alpha is ignored. All images must have the same size.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import type { InputShape, LabeledSet } from '../core/data-types.js';
import { dataError } from '../core/errors.js';
import { PIXEL_SCALE } from './idx.js';

export interface ImageFolderData {
  train: LabeledSet;
  test: LabeledSet | null;
  classNames: string[];
}

interface DecodedImage {
  file: string;
  label: number;
  width: number;
  height: number;
  /** RGBA bytes, as pngjs decodes every colour type. */
  rgba: Uint8Array;
}

const IMAGE_EXTENSION = '.png';

const isDirectory = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** Sub-folders of a folder, sorted (plain code-unit order, the same on every platform). */
function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
}

/** Loads an image folder (see the module comment for the layouts). */
export function loadImageFolder(dir: string): ImageFolderData {
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
        `(${classNames.join(', ') || 'none'}); expected at least 2, one folder of PNG images per class`,
    );
  }
  const trainImages = decodeClasses(spec, trainDir, classNames, classNames);
  let testImages: DecodedImage[] | null = null;
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
    testImages = decodeClasses(spec, testDir, testClasses, classNames);
  }

  const first = trainImages[0];
  if (first === undefined) throw dataError(`${spec}: no images found`);
  const all = testImages === null ? trainImages : trainImages.concat(testImages);
  for (const image of all) {
    if (image.width !== first.width || image.height !== first.height) {
      throw dataError(
        `${spec}: ${image.file} is ${image.width}x${image.height} but ${first.file} is ${first.width}x${first.height}; ` +
          `all images must have the same size: resize them first`,
      );
    }
  }
  const channels = all.every(isGrey) ? 1 : 3;
  const shape: InputShape = [first.height, first.width, channels];
  return {
    train: toLabeledSet(trainImages, shape, classNames.length),
    test: testImages === null ? null : toLabeledSet(testImages, shape, classNames.length),
    classNames,
  };
}

/** Decodes every PNG of the given class folders; labels index `allClasses`. */
function decodeClasses(spec: string, dir: string, classes: readonly string[], allClasses: readonly string[]): DecodedImage[] {
  const images: DecodedImage[] = [];
  for (const name of classes) {
    const classDir = path.join(dir, name);
    const files = readdirSync(classDir, { withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.toLowerCase().endsWith(IMAGE_EXTENSION))
      .map((entry) => entry.name)
      .sort();
    if (files.length === 0) {
      throw dataError(
        `${spec}: class folder '${classDir}' has no .png files; expected PNG images (other formats are not read): add ` +
          `images or remove the folder`,
      );
    }
    const label = allClasses.indexOf(name);
    for (const fileName of files) {
      const file = path.join(classDir, fileName);
      let png: PNG;
      try {
        png = PNG.sync.read(readFileSync(file));
      } catch (error) {
        throw dataError(`${spec}: cannot decode ${file} as PNG (${(error as Error).message}); re-export or remove it`);
      }
      images.push({ file, label, width: png.width, height: png.height, rgba: png.data });
    }
  }
  return images;
}

function isGrey(image: DecodedImage): boolean {
  const { rgba } = image;
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i] !== rgba[i + 1] || rgba[i] !== rgba[i + 2]) return false;
  }
  return true;
}

function toLabeledSet(images: readonly DecodedImage[], shape: InputShape, numClasses: number): LabeledSet {
  const [height, width, channels] = shape;
  const pixels = height * width;
  const x = new Float32Array(images.length * pixels * channels);
  const y = new Int32Array(images.length);
  images.forEach((image, n) => {
    y[n] = image.label;
    const offset = n * pixels * channels;
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < channels; c++) x[offset + p * channels + c] = (image.rgba[p * 4 + c] ?? 0) * PIXEL_SCALE;
    }
  });
  return { x, y, count: images.length, inputShape: shape, numClasses };
}
