/**
 * Architectures: named presets (a table) and JSON spec files validated by a schema. The engine
 * appends the output layer (dense numClasses, softmax), so a spec lists hidden layers only.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { InputShape } from '../core/data-types.js';
import { ModeError, usageError } from '../core/errors.js';
import { ACTIVATIONS, type ArchitectureSpec, type LayerSpec } from '../engine/index.js';

/** Presets. mlp and cnn are the shapes of the PyTorch benchmark reference (engine-notes.md). */
const ARCHITECTURES = {
  mlp: [{ type: 'flatten' }, { type: 'dense', units: 256, activation: 'relu' }, { type: 'dense', units: 128, activation: 'relu' }],
  cnn: [
    { type: 'conv2d', filters: 16, kernelSize: 3, activation: 'relu' },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'conv2d', filters: 32, kernelSize: 3, activation: 'relu' },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 128, activation: 'relu' },
  ],
  lenet: [
    { type: 'conv2d', filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'conv2d', filters: 16, kernelSize: 5, activation: 'relu' },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 120, activation: 'relu' },
    { type: 'dense', units: 84, activation: 'relu' },
  ],
  /** The replication's MLP: dense layers of 28 units (mode-replication-slides.txt). */
  mlp28: [
    { type: 'flatten' },
    { type: 'dense', units: 28, activation: 'relu' },
    { type: 'dense', units: 28, activation: 'relu' },
    { type: 'dense', units: 28, activation: 'relu' },
  ],
  /** The `capacity` scenario of docs/method.md: a model too small for the data. */
  tiny: [{ type: 'flatten' }, { type: 'dense', units: 4, activation: 'relu' }],
} as const satisfies Record<string, readonly LayerSpec[]>;

type ArchitectureName = keyof typeof ARCHITECTURES;
export const ARCHITECTURE_NAMES = Object.keys(ARCHITECTURES) as ArchitectureName[];

const positiveInt = z.number().int().positive();
const padding = z.enum(['valid', 'same']).optional();
const activation = z.enum(ACTIVATIONS).optional();

const LayerSpecSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('dense'), units: positiveInt, activation }),
  z.strictObject({
    type: z.literal('conv2d'),
    filters: positiveInt,
    kernelSize: positiveInt,
    strides: positiveInt.optional(),
    padding,
    activation,
  }),
  z.strictObject({ type: z.literal('maxPool2d'), poolSize: positiveInt, strides: positiveInt.optional(), padding }),
  z.strictObject({ type: z.literal('averagePooling2d'), poolSize: positiveInt, strides: positiveInt.optional(), padding }),
  z.strictObject({ type: z.literal('flatten') }),
  z.strictObject({ type: z.literal('dropout'), rate: z.number().min(0).lt(1) }),
  z.strictObject({ type: z.literal('batchNormalization') }),
  z.strictObject({ type: z.literal('activation'), activation: z.enum(ACTIVATIONS) }),
]);

const ArchitectureFileSchema = z.strictObject({ layers: z.array(LayerSpecSchema).min(1) });

/** Formats the first problem of a zod error as "path: message". */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  return `${where}: ${issue.message}`;
}

/** Parses a JSON architecture (text) into hidden layers; errors name the bad layer. */
export function parseArchitectureJson(text: string, source: string): LayerSpec[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ModeError('config', `${source}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = ArchitectureFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ModeError(
      'config',
      `${source}: bad architecture spec at ${describeZodError(parsed.error)}; layers are ` +
        `${LayerSpecSchema.options.map((o) => o.shape.type.value).join(', ')}`,
    );
  }
  return parsed.data.layers as LayerSpec[];
}

/** Fails early, before data loads, on a name that is neither a preset nor a .json path. */
export function checkArchitectureName(nameOrPath: string): void {
  if (!(nameOrPath in ARCHITECTURES) && !nameOrPath.endsWith('.json')) throw unknownModel(nameOrPath);
}

const unknownModel = (name: string): ModeError =>
  usageError(`unknown model '${name}': must be one of [${ARCHITECTURE_NAMES.join(', ')}] or a path to a .json architecture spec`);

/** A preset name or a path to a JSON spec file, for inputs of this shape and class count. */
export function resolveArchitecture(
  nameOrPath: string,
  inputShape: InputShape,
  numClasses: number,
): { name: string; spec: ArchitectureSpec } {
  let layers: readonly LayerSpec[];
  if (nameOrPath in ARCHITECTURES) {
    layers = ARCHITECTURES[nameOrPath as ArchitectureName];
  } else if (nameOrPath.endsWith('.json')) {
    let text: string;
    try {
      text = readFileSync(nameOrPath, 'utf8');
    } catch {
      throw usageError(`architecture file '${nameOrPath}' cannot be read; check the path`);
    }
    layers = parseArchitectureJson(text, nameOrPath);
  } else {
    throw unknownModel(nameOrPath);
  }
  return { name: nameOrPath, spec: { inputShape, numClasses, layers } };
}
