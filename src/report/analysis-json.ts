/** analysis.json: the analysis as plain data, maps as arrays with their shapes. */
import type { AnalysisResult } from '../analysis/index.js';

export const ANALYSIS_FILE = 'analysis.json';
export const ANALYSIS_VERSION = 1;

export interface AnalysisContext {
  modelDir: string;
  dataset: string;
  classNames: readonly string[];
  seed: number;
  options: Record<string, unknown>;
  engine: unknown;
  environment: unknown;
}

export function analysisToJson(result: AnalysisResult, context: AnalysisContext): Record<string, unknown> {
  const perLabel = (m: { accuracy: number; perLabel: readonly number[] }): Record<string, unknown> => ({ accuracy: m.accuracy, perLabel: m.perLabel });
  return {
    kind: 'mode-analysis',
    version: ANALYSIS_VERSION,
    ...context,
    theta: result.bugReport.theta,
    gamma: result.bugReport.gamma,
    model: { train: perLabel(result.model.train), validation: { ...perLabel(result.model.validation), confusion: result.model.validation.confusion } },
    bugs: result.bugReport.bugs,
    probes: result.probes.map((p) => ({
      name: p.probe.name, type: p.probe.type, layerIndex: p.probe.layerIndex, shape: p.probe.shape, train: perLabel(p.train), validation: perLabel(p.validation),
    })),
    targets: result.targets,
    maps: result.maps.map((m) => ({
      label: m.label, variant: m.variant, shape: m.shape, counts: m.counts, confusedWith: m.confusedWith,
      layerName: result.targets.find((t) => t.label === m.label)?.layerName ?? null,
      maps: Object.fromEntries(Object.entries(m.maps).map(([name, values]) => [name, Array.from(values, (v) => Math.round(v * 1e7) / 1e7)])),
    })),
    timings: result.timings,
  };
}
