/**
 * Input normalisation, as a model needs it. Pixels are first scaled to [0, 1] (`unit`, the default:
 * uint8 / 255); `mean=...;std=...` then maps each channel c to (v - mean[c]) / std[c], as
 * torchvision's Normalize does after ToTensor. One value stands for every channel.
 *
 * The text form (`unit`, `mean=0.485,0.456,0.406;std=0.229,0.224,0.225`) is what configs and
 * manifests record; `parseNormalize` reads it once at the edges and `formatNormalize` writes the
 * canonical text back.
 */
import type { InputShape } from '../core/data-types.js';
import { shapeError, usageError } from '../core/errors.js';

export type Normalize = { readonly kind: 'unit' } | { readonly kind: 'mean-std'; readonly mean: number[]; readonly std: number[] };

/** The default: pixels in [0, 1], nothing more. */
export const DEFAULT_NORMALIZE = 'unit';

const NORMALIZE_USAGE = "expected 'unit' or 'mean=M[,M,M];std=S[,S,S]', e.g. mean=0.485,0.456,0.406;std=0.229,0.224,0.225";

function parseValues(spec: string, key: string, text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const values = parts.map(Number);
  const bad = parts.findIndex((p, i) => p === '' || !Number.isFinite(values[i]));
  if (bad >= 0) throw usageError(`bad normalisation '${spec}': ${key} value '${parts[bad]}' is not a finite number; ${NORMALIZE_USAGE}`);
  if (values.length !== 1 && values.length !== 3) {
    throw usageError(`bad normalisation '${spec}': ${key} has ${values.length} values; give 1 (every channel) or 3 (R, G, B)`);
  }
  return values;
}

/** Reads a normalisation spec; a usage error names what is wrong and shows the expected form. */
export function parseNormalize(spec: string): Normalize {
  const text = spec.trim();
  if (text === 'unit') return { kind: 'unit' };
  const fields = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part.trim() : part.slice(0, eq).trim();
    if (eq < 0 || (key !== 'mean' && key !== 'std')) {
      throw usageError(`bad normalisation '${spec}': unknown part '${part.trim()}'; ${NORMALIZE_USAGE}`);
    }
    if (fields.has(key)) throw usageError(`bad normalisation '${spec}': ${key} is given twice; ${NORMALIZE_USAGE}`);
    fields.set(key, part.slice(eq + 1));
  }
  const meanText = fields.get('mean');
  const stdText = fields.get('std');
  if (meanText === undefined || stdText === undefined) {
    throw usageError(`bad normalisation '${spec}': needs both mean and std; ${NORMALIZE_USAGE}`);
  }
  const mean = parseValues(spec, 'mean', meanText);
  const std = parseValues(spec, 'std', stdText);
  const zero = std.findIndex((s) => s <= 0);
  if (zero >= 0) throw usageError(`bad normalisation '${spec}': std ${std[zero]} must be > 0 (inputs are divided by it)`);
  if (mean.length !== std.length && mean.length !== 1 && std.length !== 1) {
    throw usageError(`bad normalisation '${spec}': mean has ${mean.length} values but std ${std.length}; give as many of each, or 1`);
  }
  return { kind: 'mean-std', mean, std };
}

/** The canonical text of a normalisation (what configs record). */
function formatNormalize(normalize: Normalize): string {
  return normalize.kind === 'unit' ? 'unit' : `mean=${normalize.mean.join(',')};std=${normalize.std.join(',')}`;
}

/** `spec` checked and written canonically (for the CLI's option parser). */
export const canonicalNormalize = (spec: string): string => formatNormalize(parseNormalize(spec));

/**
 * Applies a normalisation in place to channels-last inputs already in unit scale. A mean/std with 3
 * values on 1-channel data (or the reverse) is a shape error naming `source`.
 */
export function applyNormalize(x: Float32Array, inputShape: InputShape, normalize: Normalize, source: string): void {
  if (normalize.kind === 'unit') return;
  const channels = inputShape[2];
  const n = Math.max(normalize.mean.length, normalize.std.length);
  if (n !== 1 && n !== channels) {
    throw shapeError(
      `${source}: normalisation ${formatNormalize(normalize)} has ${n} values per channel but the inputs have ${channels} ` +
        `channel${channels === 1 ? '' : 's'} ([${inputShape.join(', ')}]); give ${channels === 1 ? '1 value' : `1 or ${channels} values`}`,
    );
  }
  const scale = Array.from({ length: channels }, (_, c) => 1 / (normalize.std[normalize.std.length === 1 ? 0 : c] ?? 1));
  const shift = Array.from({ length: channels }, (_, c) => normalize.mean[normalize.mean.length === 1 ? 0 : c] ?? 0);
  if (channels === 1) {
    const m = shift[0] ?? 0;
    const s = scale[0] ?? 1;
    for (let i = 0; i < x.length; i++) x[i] = ((x[i] ?? 0) - m) * s;
    return;
  }
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    x[i] = ((x[i] ?? 0) - (shift[c] ?? 0)) * (scale[c] ?? 1);
  }
}

/** The inverse of applyNormalize, as a copy: normalised inputs back in unit scale (for showing them). */
export function restoreUnit(x: Float32Array, inputShape: InputShape, normalize: Normalize): Float32Array {
  if (normalize.kind === 'unit') return x;
  const channels = inputShape[2];
  return x.map(
    (v, i) =>
      v * normalize.std[normalize.std.length === 1 ? 0 : i % channels]! + normalize.mean[normalize.mean.length === 1 ? 0 : i % channels]!,
  );
}
