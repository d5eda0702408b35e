/**
 * Pools of candidate inputs from outside a dataset, labelled or not, for selection (`mode select
 * --pool SPEC`): a labelling queue then needs their file names.
 *
 * - `images:DIR`: a flat folder of images (unlabelled), or class sub-folders `DIR/<class>/*`
 *   (labelled); files are recorded relative to DIR, sorted (by class, then name).
 * - `npz:FILE`: array x (or x_train), with an optional y (or y_train) for labels.
 * - `npy:X.npy` or `npy:X.npy,Y.npy`.
 * - any other dataset spec (`mnist`, `idx:DIR`, `synthetic:...`): its training file, labelled, without file names.
 *
 * Images are resized to `inputShape` when given (see image-folder.ts); arrays must have it already.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { InputShape } from '../core/data-types.js';
import { dataError, shapeError, usageError } from '../core/errors.js';
import { DATASET_NAMES, loadDataset, splitNpyArgument } from './datasets.js';
import { decodedShape, decodeImages, folderFiles, listClasses, subfolders, toFloats } from './image-folder.js';
import { applyNormalize, DEFAULT_NORMALIZE, parseNormalize } from './normalize.js';
import { imagesFromArray, labelsFromArray, readNpyFile, readNpzFile, type NumpyArray } from './numpy.js';

export interface Pool {
  /** count * height * width * channels values, channels last, normalised as asked. */
  readonly x: Float32Array;
  readonly count: number;
  readonly inputShape: InputShape;
  /** Each row's file, relative to the folder (images:DIR), or null for arrays. */
  readonly files: string[] | null;
  /** Labels when the pool has them (class folders, or y in the arrays), else null. */
  readonly y: Int32Array | null;
  /** Class names of labelled image folders (the sorted folder names); for labelled arrays their numbers; else null. */
  readonly classNames: string[] | null;
}

export interface LoadPoolOptions {
  /** The model's input shape: images are resized to it; arrays must match it. */
  inputShape?: InputShape;
  /** Normalisation spec, as the model's data config records it; default `unit`. */
  normalize?: string;
}

const POOL_USAGE = 'images:DIR, npz:FILE, npy:X.npy or npy:X.npy,Y.npy, or a dataset spec';

/** Loads a pool from its spec (see the module comment). */
export async function loadPool(spec: string, options: LoadPoolOptions = {}): Promise<Pool> {
  const normalize = parseNormalize(options.normalize ?? DEFAULT_NORMALIZE);
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const argument = colon < 0 ? '' : spec.slice(colon + 1);
  if (kind !== 'images' && kind !== 'npz' && kind !== 'npy') {
    if (!(DATASET_NAMES as readonly string[]).includes(kind)) throw usageError(`unknown pool '${spec}': must be one of [${POOL_USAGE}]`);
    const dataset = await loadDataset(spec, {
      ...(options.inputShape === undefined ? {} : { inputShape: options.inputShape }),
      ...(options.normalize === undefined ? {} : { normalize: options.normalize }),
    });
    const { x, y, count, inputShape } = dataset.train;
    return { x, count, inputShape, files: null, y, classNames: dataset.classNames };
  }
  if (argument === '') throw usageError(`pool '${spec}': ${kind} needs a path, e.g. ${kind}:${kind === 'images' ? 'DIR' : 'FILE'}`);
  const target = options.inputShape ?? null;
  const pool = kind === 'images' ? await loadImagePool(spec, argument, target) : loadArrayPool(spec, kind, argument);
  if (pool.count === 0) throw dataError(`${spec}: the pool is empty; expected at least one input`);
  if (target !== null && pool.inputShape.some((d, i) => d !== target[i])) {
    throw shapeError(
      `${spec}: pool inputs have shape [${pool.inputShape.join(', ')}] but the model expects [${target.join(', ')}]; ` +
        `reshape the arrays to the model's input`,
    );
  }
  applyNormalize(pool.x, pool.inputShape, normalize, spec);
  return pool;
}

async function loadImagePool(spec: string, dir: string, target: InputShape | null): Promise<Pool> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw dataError(`${spec}: folder '${dir}' does not exist; expected a folder of images, or of class folders of images`);
  }
  const classes = subfolders(dir);
  const loose = folderFiles(dir);
  if (classes.length > 0 && loose.length > 0) {
    throw dataError(
      `${spec}: '${dir}' holds both files (${loose[0]}${loose.length > 1 ? ', ...' : ''}) and folders (${classes.join(', ')}); ` +
        `put images either all in the folder (unlabelled) or all in class folders (labelled)`,
    );
  }
  if (classes.length === 0 && loose.length === 0) throw dataError(`${spec}: the pool is empty: '${dir}' holds no images`);
  const labelled = classes.length > 0;
  const listed = labelled
    ? listClasses(spec, dir, dir, classes, classes)
    : { paths: loose.map((f) => path.join(dir, f)), relative: loose, labels: [] as number[] };
  const images = await decodeImages(spec, listed.paths, target);
  const inputShape = decodedShape(spec, images, target);
  return {
    x: toFloats(images, inputShape),
    count: images.length,
    inputShape,
    files: listed.relative,
    y: labelled ? Int32Array.from(listed.labels) : null,
    classNames: labelled ? classes : null,
  };
}

function loadArrayPool(spec: string, kind: 'npz' | 'npy', argument: string): Pool {
  let x: NumpyArray;
  let y: NumpyArray | undefined;
  let xName: string;
  let yName: string;
  if (kind === 'npz') {
    const arrays = readNpzFile(argument);
    const key = arrays.has('x') ? 'x' : 'x_train';
    const found = arrays.get(key);
    if (found === undefined) {
      throw dataError(`${argument}: holds arrays [${[...arrays.keys()].join(', ')}]; a pool needs x (or x_train), with an optional y`);
    }
    x = found;
    xName = `${argument}:${key}`;
    const yKey = key === 'x' ? 'y' : 'y_train';
    y = arrays.get(yKey);
    yName = `${argument}:${yKey}`;
  } else {
    const files = splitNpyArgument(argument);
    x = readNpyFile(files.x);
    xName = files.x;
    y = files.y === null || files.y === '' ? undefined : readNpyFile(files.y);
    yName = files.y ?? '';
  }
  if (x.shape[0] === 0) throw dataError(`${spec}: the pool is empty: ${xName} holds no images`);
  const images = imagesFromArray(x, xName);
  const labels = y === undefined ? null : labelsFromArray(y, yName, images.count, xName);
  let classNames: string[] | null = null;
  if (labels !== null) {
    let max = 1;
    for (const v of labels) if (v > max) max = v;
    classNames = Array.from({ length: max + 1 }, (_, i) => String(i));
  }
  return { ...images, files: null, y: labels, classNames };
}
