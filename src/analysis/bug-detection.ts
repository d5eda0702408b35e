/**
 * Bug detection per label (docs/method.md section 3). Per-label accuracy is recall on train and
 * validation. Underfitting: both below theta. Overfitting: train - validation above gamma.
 * Order: underfitting labels first, worst validation accuracy first; then overfitting, widest gap first.
 */
import { usageError } from '../core/errors.js';
import { DEFAULT_GAMMA, DEFAULT_THETA } from './constants.js';

/** Absolute theta, or relative: mean - k * std of per-label validation accuracy. */
export type ThetaRule = { kind: 'absolute'; value: number } | { kind: 'relative'; k: number };

export interface BugDetectionOptions {
  readonly theta?: ThetaRule;
  readonly gamma?: number;
}

export type BugKind = 'underfitting' | 'overfitting';

export interface LabelBug {
  readonly label: number;
  readonly kind: BugKind;
  readonly trainAccuracy: number;
  readonly validationAccuracy: number;
}

export interface BugReport {
  /** The theta actually used (resolved when relative). */
  readonly theta: number;
  readonly gamma: number;
  readonly bugs: LabelBug[];
}

/** Parses `--theta`: a number in [0, 1], or `relative:K` / `mean-Ksd`. */
export function parseTheta(text: string): ThetaRule {
  const relative = /^(?:relative:|mean-)([0-9.]+)(?:sd)?$/.exec(text.trim());
  if (relative !== null) {
    const k = Number(relative[1]);
    if (Number.isFinite(k) && k >= 0) return { kind: 'relative', k };
  }
  const value = Number(text);
  if (text.trim() !== '' && Number.isFinite(value) && value >= 0 && value <= 1) return { kind: 'absolute', value };
  throw usageError(
    `--theta '${text}': must be a number in [0, 1] (e.g. 0.92) or relative:K for mean - K std of per-label validation ` +
      `accuracy (e.g. relative:1.5)`,
  );
}

export function resolveTheta(rule: ThetaRule, validationPerLabel: readonly number[]): number {
  if (rule.kind === 'absolute') return rule.value;
  const values = validationPerLabel.filter((v) => Number.isFinite(v));
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(values.length - 1, 1);
  return mean - rule.k * Math.sqrt(variance);
}

export function detectBugs(
  trainPerLabel: readonly number[],
  validationPerLabel: readonly number[],
  options: BugDetectionOptions = {},
): BugReport {
  const theta = resolveTheta(options.theta ?? { kind: 'absolute', value: DEFAULT_THETA }, validationPerLabel);
  const gamma = options.gamma ?? DEFAULT_GAMMA;
  const under: LabelBug[] = [];
  const over: LabelBug[] = [];
  validationPerLabel.forEach((validationAccuracy, label) => {
    const trainAccuracy = trainPerLabel[label] ?? NaN;
    if (!Number.isFinite(validationAccuracy) || !Number.isFinite(trainAccuracy)) return;
    if (trainAccuracy < theta && validationAccuracy < theta) under.push({ label, kind: 'underfitting', trainAccuracy, validationAccuracy });
    else if (trainAccuracy - validationAccuracy > gamma) over.push({ label, kind: 'overfitting', trainAccuracy, validationAccuracy });
  });
  under.sort((a, b) => a.validationAccuracy - b.validationAccuracy || a.label - b.label);
  over.sort((a, b) => b.trainAccuracy - b.validationAccuracy - (a.trainAccuracy - a.validationAccuracy) || a.label - b.label);
  return { theta, gamma, bugs: [...under, ...over] };
}
