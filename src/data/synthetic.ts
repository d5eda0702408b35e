/**
 * A small seeded synthetic dataset for tests and quick runs: size x size x 1 images where each class
 * has its own random binary prototype (pixels at PROTOTYPE_LOW or PROTOTYPE_HIGH) and each example
 * is its class prototype plus seeded Gaussian noise, clipped to [0, 1]. At the default noise a small
 * MLP learns it to high accuracy in a few epochs; raise `noise` to make it harder.
 *
 * Spec: `synthetic` or `synthetic:classes=3,size=8,n=600,test=100,noise=0.3,seed=7`.
 */
import type { InputShape, LabeledSet } from '../core/data-types.js';
import { usageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

export interface SyntheticOptions {
  /** Number of classes. */
  classes: number;
  /** Image height and width. */
  size: number;
  /** Training examples. */
  count: number;
  /** Test examples (0: no test set; splits then carve one from train). */
  testCount: number;
  /** Standard deviation of the per-pixel Gaussian noise. */
  noise: number;
  seed: number;
}

export interface SyntheticData {
  train: LabeledSet;
  test: LabeledSet | null;
  classNames: string[];
}

/** Defaults: small enough to make in milliseconds and train in seconds. */
const SYNTHETIC_DEFAULTS = { classes: 3, size: 8, count: 600, noise: 0.3, seed: 0 } as const;
/** Test examples per training example by default (MNIST's 10k : 60k). */
const DEFAULT_TEST_RATIO = 1 / 6;
/** Prototype pixel levels: far enough apart that classes separate, inside [0, 1] so noise shows. */
const PROTOTYPE_LOW = 0.15;
const PROTOTYPE_HIGH = 0.85;

const LIMITS = {
  classes: [2, 1000],
  size: [2, 256],
  n: [1, 10_000_000],
  test: [0, 10_000_000],
  seed: [0, 0xffffffff],
} as const;

/** Parameters accepted after `synthetic:`. */
const SYNTHETIC_PARAMS = ['classes', 'size', 'n', 'test', 'noise', 'seed'] as const;
type SyntheticParam = (typeof SYNTHETIC_PARAMS)[number];

/** Parses the text after `synthetic:` (may be empty). `seed` is used when the spec names none. */
export function parseSyntheticSpec(text: string, seed: number = SYNTHETIC_DEFAULTS.seed): SyntheticOptions {
  const values: Partial<Record<SyntheticParam, number>> = {};
  const spec = `synthetic:${text}`;
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const match = /^([a-z]+)=(.+)$/.exec(part);
    if (match === null) {
      throw usageError(`dataset '${spec}': '${part}' is not key=value; expected e.g. synthetic:classes=3,size=8,n=600`);
    }
    const key = match[1] ?? '';
    const raw = match[2] ?? '';
    if (!(SYNTHETIC_PARAMS as readonly string[]).includes(key)) {
      throw usageError(`dataset '${spec}': unknown parameter '${key}': must be one of [${SYNTHETIC_PARAMS.join(', ')}]`);
    }
    const value = Number(raw);
    const param = key as SyntheticParam;
    if (param === 'noise') {
      if (!Number.isFinite(value) || value < 0 || value > 1) {
        throw usageError(`dataset '${spec}': noise must be a number in [0, 1], got '${raw}'`);
      }
    } else {
      const [min, max] = LIMITS[param];
      if (!Number.isInteger(value) || value < min || value > max) {
        throw usageError(`dataset '${spec}': ${param} must be an integer in [${min}, ${max}], got '${raw}'`);
      }
    }
    values[param] = value;
  }
  const options: SyntheticOptions = {
    classes: values.classes ?? SYNTHETIC_DEFAULTS.classes,
    size: values.size ?? SYNTHETIC_DEFAULTS.size,
    count: values.n ?? SYNTHETIC_DEFAULTS.count,
    testCount: 0,
    noise: values.noise ?? SYNTHETIC_DEFAULTS.noise,
    seed: values.seed ?? seed,
  };
  options.testCount = values.test ?? Math.max(options.classes, Math.round(options.count * DEFAULT_TEST_RATIO));
  if (options.count < options.classes) {
    throw usageError(`dataset '${spec}': n (${options.count}) must be at least the number of classes (${options.classes})`);
  }
  if (2 ** (options.size * options.size) < options.classes) {
    throw usageError(
      `dataset '${spec}': ${options.size}x${options.size} images cannot hold ${options.classes} distinct prototypes; raise size`,
    );
  }
  return options;
}

/** Makes the synthetic dataset. Same options (seed included), same data. */
export function makeSynthetic(options: SyntheticOptions): SyntheticData {
  const rng = new Rng(options.seed).child('synthetic');
  const shape: InputShape = [options.size, options.size, 1];
  const prototypes = makePrototypes(options.classes, options.size * options.size, rng.child('prototypes'));
  const train = makeSet(options, shape, prototypes, options.count, rng.child('train'));
  const test = options.testCount > 0 ? makeSet(options, shape, prototypes, options.testCount, rng.child('test')) : null;
  const classNames = Array.from({ length: options.classes }, (_, i) => String(i));
  return { train, test, classNames };
}

/** One distinct random binary pattern per class. */
function makePrototypes(classes: number, pixels: number, rng: Rng): Float32Array[] {
  const prototypes: Float32Array[] = [];
  const seen = new Set<string>();
  while (prototypes.length < classes) {
    const p = new Float32Array(pixels);
    let key = '';
    for (let i = 0; i < pixels; i++) {
      const high = rng.next() < 0.5;
      p[i] = high ? PROTOTYPE_HIGH : PROTOTYPE_LOW;
      key += high ? '1' : '0';
    }
    if (seen.has(key)) continue;
    seen.add(key);
    prototypes.push(p);
  }
  return prototypes;
}

/** Balanced labels in shuffled order; each example = its prototype + noise, clipped to [0, 1]. */
function makeSet(options: SyntheticOptions, shape: InputShape, prototypes: Float32Array[], count: number, rng: Rng): LabeledSet {
  const pixels = shape[0] * shape[1] * shape[2];
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) y[i] = i % options.classes;
  rng.shuffle(y);
  const x = new Float32Array(count * pixels);
  for (let i = 0; i < count; i++) {
    const prototype = prototypes[y[i] ?? 0] ?? new Float32Array(pixels);
    const offset = i * pixels;
    for (let j = 0; j < pixels; j++) {
      const v = (prototype[j] ?? 0) + options.noise * rng.normal();
      x[offset + j] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return { x, y, count, inputShape: shape, numClasses: options.classes };
}
