/**
 * analysis.json, defined once: the zod schema `mode analyze` writes by (analysisDoc's type is the
 * schema's input) and the report reads with. Maps are arrays with their shapes; values that can be
 * NaN (a label without inputs) are written by JSON as null.
 */
import { z } from 'zod';
import { parseDoc, type DocKind } from '../core/json-doc.js';
import type { AnalysisResult } from './analyze.js';
import { HEATMAP_VARIANTS, MAP_NAMES } from './heatmaps.js';
import { LAYER_SELECTION_RULES } from './layer-selection.js';

export const ANALYSIS_FILE = 'analysis.json';
const ANALYSIS_KIND = 'mode-analysis';
const ANALYSIS_VERSION = 1;

const rate = z.number().nullable();
const labelIndex = z.number().int();
const bugKind = z.enum(['underfitting', 'overfitting']);
const Accuracy = z.object({ accuracy: rate, perLabel: z.array(rate) });

export const AnalysisDocSchema = z.object({
  kind: z.literal(ANALYSIS_KIND),
  version: z.literal(ANALYSIS_VERSION),
  modelDir: z.string(),
  dataset: z.string(),
  classNames: z.array(z.string()).min(1),
  seed: z.number().int(),
  /** The options of `mode analyze`, as given. */
  options: z.object({
    dataset: z.string().optional(),
    seed: z.number().int().optional(),
    heatmap: z.enum(HEATMAP_VARIANTS),
    layerSelection: z.enum(LAYER_SELECTION_RULES),
    theta: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('absolute'), value: z.number() }),
      z.object({ kind: z.literal('relative'), k: z.number() }),
    ]),
    gamma: z.number(),
    epsilon: z.number(),
    includeInput: z.boolean(),
    headEpochs: z.number().int(),
    /** Absent in files of earlier versions, whose heads trained on every input. */
    headRowsPerLabel: z.number().int().optional(),
  }),
  engine: z.record(z.string(), z.unknown()),
  environment: z.record(z.string(), z.unknown()),
  /** The theta used (resolved when relative), and gamma. */
  theta: z.number(),
  gamma: z.number(),
  model: z.object({ train: Accuracy, validation: Accuracy.extend({ confusion: z.array(z.array(z.number())) }) }),
  bugs: z.array(z.object({ label: labelIndex, kind: bugKind, trainAccuracy: rate, validationAccuracy: rate })),
  probes: z.array(
    z.object({
      name: z.string(),
      type: z.string(),
      layerIndex: z.number().int(),
      shape: z.array(z.number().int()),
      train: Accuracy,
      validation: Accuracy,
    }),
  ),
  targets: z.array(
    z.object({
      label: labelIndex,
      kind: bugKind,
      probe: z.number().int(),
      layerName: z.string(),
      rule: z.enum(LAYER_SELECTION_RULES),
      reason: z.string(),
    }),
  ),
  maps: z.array(
    z.object({
      label: labelIndex,
      variant: z.enum(HEATMAP_VARIANTS),
      shape: z.array(z.number().int().positive()),
      counts: z.object({ correct: z.number(), missed: z.number(), wronglyClaimed: z.number() }),
      confusedWith: labelIndex,
      layerName: z.string().nullable(),
      maps: z.object(
        Object.fromEntries(MAP_NAMES.map((m) => [m, z.array(rate)])) as Record<(typeof MAP_NAMES)[number], z.ZodArray<typeof rate>>,
      ),
    }),
  ),
  timings: z.record(z.string(), z.number()),
});

/** analysis.json as read back. */
export type AnalysisDoc = z.output<typeof AnalysisDocSchema>;
/** analysis.json as written (NaN allowed where the file will hold null). */
export type AnalysisDocInput = z.input<typeof AnalysisDocSchema>;

/** What analysis.json records besides the result: where it comes from and how it was made. */
export type AnalysisContext = Pick<AnalysisDocInput, 'modelDir' | 'dataset' | 'classNames' | 'seed' | 'options' | 'engine' | 'environment'>;

/** analysis.json of an analysis: maps as arrays (rounded to 7 decimals) with their shapes. */
export function analysisDoc(result: AnalysisResult, context: AnalysisContext): AnalysisDocInput {
  const accuracy = (m: { accuracy: number; perLabel: readonly number[] }) => ({ accuracy: m.accuracy, perLabel: [...m.perLabel] });
  return {
    kind: ANALYSIS_KIND,
    version: ANALYSIS_VERSION,
    ...context,
    theta: result.bugReport.theta,
    gamma: result.bugReport.gamma,
    model: {
      train: accuracy(result.model.train),
      validation: { ...accuracy(result.model.validation), confusion: result.model.validation.confusion },
    },
    bugs: result.bugReport.bugs,
    probes: result.probes.map((p) => ({
      name: p.probe.name,
      type: p.probe.type,
      layerIndex: p.probe.layerIndex,
      shape: [...p.probe.shape],
      train: accuracy(p.train),
      validation: accuracy(p.validation),
    })),
    targets: result.targets,
    maps: result.maps.map((m) => ({
      label: m.label,
      variant: m.variant,
      shape: [...m.shape],
      counts: m.counts,
      confusedWith: m.confusedWith,
      layerName: result.targets.find((t) => t.label === m.label)?.layerName ?? null,
      maps: Object.fromEntries(
        Object.entries(m.maps).map(([name, values]) => [name, Array.from(values, (v) => Math.round(v * 1e7) / 1e7)]),
      ) as Record<(typeof MAP_NAMES)[number], number[]>,
    })),
    timings: result.timings,
  };
}

const ANALYSIS_DOC: DocKind = { what: 'an analysis.json', fix: 'pass a folder written by `mode analyze`' };

/** analysis.json text as `mode analyze` writes it. */
export function parseAnalysisDoc(text: string, file: string): AnalysisDoc {
  return parseDoc(AnalysisDocSchema, text, file, ANALYSIS_DOC);
}
